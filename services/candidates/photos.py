"""A field report's photo: stored by the visit photo pipeline (re-encoded, metadata stripped), served after the
candidate's scope check."""

from pathlib import Path

from sqlmodel import Session, select

from models import Candidate, CandidatePhoto, User
from services import audit
from services.audit import Actor
from services.candidates.candidates import get_candidate_for
from services.errors import NotFound
from services.inputs import is_row_id
from services.visits.photos import refused, store

MAX_PHOTOS = 3  # what one glance at a family needs; the township visits for the rest


def add_candidate_photo(
    session: Session, actor: Actor, candidate: Candidate, *, uuid: str, caption: str | None, data: bytes, folder: Path
) -> tuple[CandidatePhoto, bool]:
    """Store a photo for a field report; return (photo, created). A replayed UUID answers the existing photo."""
    existing = session.exec(select(CandidatePhoto.uuid).where(CandidatePhoto.candidate_id == candidate.id)).all()
    if uuid not in existing and len(existing) >= MAX_PHOTOS:
        raise refused(f"一份上报最多 {MAX_PHOTOS} 张照片")
    owner = {"candidate_id": candidate.id}
    photo, created = store(
        session, CandidatePhoto, owner, uuid=uuid, caption=caption, data=data, folder=folder, actor=actor
    )
    if created:
        audit.record(session, actor, "candidate.photo_added", photo, candidate_id=candidate.id, bytes=photo.size_bytes)
    return photo, created


def photos_of(session: Session, candidate: Candidate) -> list[CandidatePhoto]:
    """Return a candidate's photos, oldest first."""
    query = select(CandidatePhoto).where(CandidatePhoto.candidate_id == candidate.id).order_by(CandidatePhoto.id)
    return list(session.exec(query))


def get_candidate_photo_for(session: Session, user: User, photo_id: int) -> CandidatePhoto:
    """Return a field report's photo whose candidate lies in the user's scope; otherwise 404."""
    photo = session.get(CandidatePhoto, photo_id) if is_row_id(photo_id) else None
    if photo is None:
        raise NotFound()
    get_candidate_for(session, user, photo.candidate_id)  # the same scope path as the candidate itself
    return photo
