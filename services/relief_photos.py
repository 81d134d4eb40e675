"""Evidence photos for relief applications: the visit photo pipeline's rules, stored once per photo UUID."""

import hashlib
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.exceptions import NotFound

from models import ReliefApplication, ReliefPhoto, User
from services import audit
from services.audit import Actor
from services.households import get_household_for
from services.photos import PhotoConflict, _write_atomically, path_for, process
from services.relief import NotAllowed

UPLOADERS = ("assistant", "township", "county")  # who raises or decides; the city and admins only look


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
    source_sha = hashlib.sha256(data).hexdigest()
    existing = _by_uuid(session, uuid)
    if existing is not None:
        return _replay(existing, application, source_sha), False
    if actor.user.role not in UPLOADERS:
        raise NotAllowed("只有村协理员、乡镇和县级经办人员可以上传证明材料")
    processed = process(data)  # raises PhotoError in plain Chinese, before anything is stored
    photo = ReliefPhoto(
        uuid=uuid,
        application_id=application.id,
        household_id=application.household_id,
        caption=caption,
        sha256=processed.sha256,
        source_sha256=processed.source_sha256,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.jpeg),
        uploaded_by_id=actor.user.id,
    )
    session.add(photo)
    try:
        session.flush()  # the unique UUID is checked before any file is written
    except IntegrityError:  # the same photo UUID arrived twice at once: the other request stored it
        session.rollback()
        again = _by_uuid(session, uuid)
        if again is None:
            raise PhotoConflict("这个照片编号已用于另一张照片") from None
        return _replay(again, application, source_sha), False
    _write_atomically(path_for(folder, processed.sha256), processed.jpeg)
    _write_atomically(path_for(folder, processed.sha256, thumb=True), processed.thumb)
    audit.record(session, actor, "relief.photo_added", photo, application_id=application.id, bytes=len(processed.jpeg))
    return photo, True


def _by_uuid(session: Session, uuid: str) -> ReliefPhoto | None:
    return session.exec(select(ReliefPhoto).where(ReliefPhoto.uuid == uuid)).first()


def _replay(photo: ReliefPhoto, application: ReliefApplication, source_sha: str) -> ReliefPhoto:
    if photo.source_sha256 == source_sha and photo.application_id == application.id:
        return photo
    raise PhotoConflict("这个照片编号已用于另一张照片")


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
