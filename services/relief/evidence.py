"""Evidence photos for relief applications: the visit photo pipeline's rules, stored once per photo UUID."""

from pathlib import Path

from sqlmodel import Session, select

from models import ReliefApplication, ReliefPhoto, User
from services import audit
from services.audit import Actor
from services.errors import NotFound
from services.permissions import require
from services.registry.households import get_household_for
from services.visits.photos import store


def get_application_by_uuid_for(session: Session, user: User, uuid: str) -> ReliefApplication:
    """Return an application by its UUID if its household is in the user's scope; otherwise 404."""
    application = session.exec(select(ReliefApplication).where(ReliefApplication.uuid == uuid)).first()
    if application is None:
        raise NotFound()
    get_household_for(session, user, application.household_id)
    return application


def add_relief_photo(
    session: Session,
    actor: Actor,
    application: ReliefApplication,
    *,
    uuid: str,
    caption: str | None,
    data: bytes,
    folder: Path,
) -> tuple[ReliefPhoto, bool]:
    """Store an evidence photo for an application; return (photo, created). A replayed UUID answers the stored one."""
    # who raises or decides adds evidence; the city and admins only look
    require(actor.user, "relief.add_evidence", message="只有村协理员、乡镇和县级经办人员可以上传证明材料")
    owner = {"application_id": application.id, "household_id": application.household_id}
    photo, created = store(
        session, ReliefPhoto, owner, uuid=uuid, caption=caption, data=data, folder=folder, actor=actor
    )
    if created:
        audit.record(session, actor, "relief.photo_added", photo, application_id=application.id, bytes=photo.size_bytes)
    return photo, created


def photos_of(session: Session, application: ReliefApplication) -> list[ReliefPhoto]:
    """Return an application's evidence photos, oldest first."""
    query = select(ReliefPhoto).where(ReliefPhoto.application_id == application.id).order_by(ReliefPhoto.id)
    return list(session.exec(query))


def get_relief_photo_for(session: Session, user: User, photo_id: int) -> ReliefPhoto:
    """Return an evidence photo whose household lies in the user's scope; otherwise 404."""
    photo = session.get(ReliefPhoto, photo_id)
    if photo is None:
        raise NotFound()
    get_household_for(session, user, photo.household_id)  # the same scope path as the application itself
    return photo
