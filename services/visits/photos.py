"""Photos of living conditions: check, turn upright, strip metadata, shrink, store by content hash."""

import hashlib
import io
import math
import os
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import ExifTags, Image, JpegImagePlugin, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import CandidatePhoto, CareAgreementPhoto, Household, Photo, ReliefPhoto, User, Visit
from services import audit
from services.audit import Actor
from services.errors import Conflict, Invalid, NotFound
from services.scope import is_in_scope

PHOTO_FILE = re.compile(r"([0-9a-f]{64})(_t)?\.jpg")
TEMPORARY_SUFFIXES = (".part", ".removing")  # a write, or a removal, that a crash cut short
LOOKUP_BATCH = 500
# every table that names stored photo files: visit photos, relief evidence, care agreements, field reports
PHOTO_MODELS = (Photo, ReliefPhoto, CareAgreementPhoto, CandidatePhoto)
NO_ROWS = "数据库里没有任何照片记录：请确认 DATABASE_URL 指向正式数据库；照片文件一个也没有删除"

MAX_UPLOAD_BYTES = 15 * 1024 * 1024  # a 12-megapixel phone JPEG is 3–8 MB; the browser usually sends ~300 KB
# Memory: a JPEG is decoded by libjpeg at 1/2, 1/4 or 1/8 scale (draft), just above the size kept, so even a
# 200 MP camera's photo costs about 10 MB. Anything else is decoded whole: 16 MP × 4 bytes is 64 MB at most.
MAX_JPEG_PIXELS = 200_000_000  # the largest phone cameras (16320 × 12240); beyond this it is a bomb
MAX_WHOLE_PIXELS = 16_000_000  # PNG, WebP, and progressive JPEG (libjpeg keeps all of its coefficients)
TOO_MANY_PIXELS = "图片像素太多，不像是手机照片，已拒收"
TOO_MANY_FOR_KIND = "图片像素太多：PNG、WebP 等图片最多 1600 万像素，请上传手机相机拍的 JPEG 照片"
LONG_EDGE = 1600
THUMB_EDGE = 320
TARGET_BYTES = 300 * 1024  # DESIGN: an uploaded photo ≤ 300 KB from a 12-megapixel camera image
QUALITIES = (82, 74, 66, 58, 50)
JPEG_START = b"\xff\xd8\xff"
# how to turn a picture upright for each EXIF orientation, as ImageOps.exif_transpose does
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def refused(message: str) -> Invalid:
    """Return the refusal of an upload that is not stored, saying why in plain Chinese."""
    return Invalid(message, code="photo_refused")


def clash() -> Conflict:
    """Return the refusal of a photo UUID used before for a different picture."""
    return Conflict("这个照片编号已用于另一张照片", code="photo_conflict")


@dataclass(frozen=True)
class ProcessedPhoto:
    """A re-encoded photo and its thumbnail, ready to store."""

    jpeg: bytes
    thumb: bytes
    width: int
    height: int
    sha256: str
    source_sha256: str


def process(data: bytes) -> ProcessedPhoto:
    """Check an upload is a real, whole, sane image; return it upright, metadata-free, shrunk, as JPEG."""
    if not data:
        raise refused("没有收到照片，请重新选择")
    if len(data) > MAX_UPLOAD_BYTES:
        raise refused("照片太大（超过 15 MB），请重新拍一张")
    image = _open_checked(data)
    orientation = image.getexif().get(ExifTags.Base.Orientation)  # phones store portrait shots sideways plus a flag
    image = _flatten(image)
    image.thumbnail((LONG_EDGE, LONG_EDGE), Image.LANCZOS)
    if orientation in UPRIGHT:  # turned after shrinking: the long edge is the same either way
        image = image.transpose(UPRIGHT[orientation])
    jpeg = _encode_within(image, TARGET_BYTES)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.LANCZOS)
    thumb = _encode(thumb_image, 75)
    return ProcessedPhoto(
        jpeg=jpeg,
        thumb=thumb,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(jpeg).hexdigest(),
        source_sha256=hashlib.sha256(data).hexdigest(),
    )


def _open_checked(data: bytes) -> Image.Image:
    """Open and decode the image, at about the size kept for a JPEG; refuse bombs, truncation and non-images."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _open_jpeg(data) if data.startswith(JPEG_START) else _open_other(data)
            image.load()  # decodes every byte: a truncated file fails here
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refused(TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise refused("这不是照片文件，请选择手机拍的照片") from None
    except (OSError, SyntaxError, ValueError):
        raise refused("照片文件不完整（可能没有传完），请重新上传") from None
    return image


def _open_jpeg(data: bytes) -> Image.Image:
    """Open a JPEG (or MPO, its first picture) set to decode at the smallest scale that keeps LONG_EDGE.

    Not Image.open: its own bomb check refuses anything over 179 MP before our limit, which draft() makes safe.
    """
    image = JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    pixels = image.width * image.height
    if pixels > MAX_JPEG_PIXELS:
        raise refused(TOO_MANY_PIXELS)
    if image.info.get("progressive") and pixels > MAX_WHOLE_PIXELS:
        raise refused(TOO_MANY_FOR_KIND)
    image.draft("RGB", _draft_box(image.size))
    return image


def _draft_box(size: tuple[int, int]) -> tuple[int, int]:
    """Return the box draft() must still cover: the picture scaled so its long edge is LONG_EDGE."""
    width, height = size
    scale = LONG_EDGE / max(width, height)
    return size if scale >= 1 else (math.ceil(width * scale), math.ceil(height * scale))


def _open_other(data: bytes) -> Image.Image:
    """Open a PNG or WebP whole, after checking its structure and its size."""
    probe = Image.open(io.BytesIO(data))  # Pillow's own bomb check refuses over 179 MP here
    if probe.format not in ("PNG", "WEBP", "HEIF"):
        raise refused("只能上传照片（JPEG、PNG 或 WebP）")
    if probe.width * probe.height > MAX_WHOLE_PIXELS:
        raise refused(TOO_MANY_FOR_KIND)
    probe.verify()  # structure check; the image must be reopened after verify()
    return Image.open(io.BytesIO(data))


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB image (transparent areas on white), without copying one that is RGB already."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image)  # RGB takes RGBA pixels as they are, the alpha as mask: no copies
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # no exif=, no icc_profile=: nothing of the camera (GPS, model, time) survives into the file
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def _encode_within(image: Image.Image, limit: int) -> bytes:
    """Encode at the best quality that fits the size limit."""
    for quality in QUALITIES:
        data = _encode(image, quality)
        if len(data) <= limit:
            return data
    return data


def path_for(folder: Path, sha256: str, thumb: bool = False) -> Path:
    """Return where a photo (or its thumbnail) lives: photos/ab/abcdef….jpg."""
    return Path(folder) / sha256[:2] / (f"{sha256}_t.jpg" if thumb else f"{sha256}.jpg")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # content-addressed: the same bytes are already there
        try:
            os.utime(path)  # made young again: a row is about to name it, so a cleanup must leave it
            return
        except FileNotFoundError:
            pass  # a cleanup took it away just now: write it again
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def add_photo(
    session: Session, actor: Actor, visit: Visit, *, uuid: str, caption: str | None, data: bytes, folder: Path
) -> tuple[Photo, bool]:
    """Store a photo for a visit; return (photo, created). A replayed UUID answers the existing photo."""
    owner = {"visit_id": visit.id, "household_id": visit.household_id}
    photo, created = store(session, Photo, owner, uuid=uuid, caption=caption, data=data, folder=folder, actor=actor)
    if created:
        audit.record(session, actor, "photo.added", photo, visit_id=visit.id, bytes=photo.size_bytes)
    return photo, created


def store(session: Session, model, owner: dict, *, uuid: str, caption, data: bytes, folder: Path, actor: Actor):
    """Shrink and store a photo as a row of `model` (one of PHOTO_MODELS) owned as `owner` says; return (row, created).

    A replayed UUID answers the stored row when the same picture for the same owner came before, and is
    refused otherwise. The row is flushed (unique UUID) before any file is written.
    """
    source_sha = hashlib.sha256(data).hexdigest()
    existing = session.exec(select(model).where(model.uuid == uuid)).first()
    if existing is not None:
        return _replayed(existing, source_sha, owner), False
    processed = process(data)  # raises Invalid in plain Chinese, before anything is stored
    photo = model(
        uuid=uuid,
        caption=caption,
        sha256=processed.sha256,
        source_sha256=processed.source_sha256,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.jpeg),
        uploaded_by_id=actor.user.id,
        **owner,
    )
    try:
        with session.begin_nested():  # undoes only this row
            session.add(photo)
    except IntegrityError:  # the same photo UUID arrived twice at once: the other request stored it
        again = session.exec(select(model).where(model.uuid == uuid)).first()
        if again is None:
            raise clash() from None
        return _replayed(again, source_sha, owner), False
    _write_atomically(path_for(folder, processed.sha256), processed.jpeg)
    _write_atomically(path_for(folder, processed.sha256, thumb=True), processed.thumb)
    return photo, True


def _replayed(photo, source_sha: str, owner: dict):
    """Return the stored photo if it is the same picture for the same owner; otherwise refuse the UUID."""
    if photo.source_sha256 == source_sha and all(getattr(photo, key) == value for key, value in owner.items()):
        return photo
    raise clash()


def discard_unreferenced(session: Session, folder: Path, sha256: str) -> None:
    """Remove a photo's files when no table of PHOTO_MODELS uses them (after a failed commit)."""
    for model in PHOTO_MODELS:
        if session.exec(select(model.id).where(model.sha256 == sha256)).first() is not None:
            return
    path_for(folder, sha256).unlink(missing_ok=True)
    path_for(folder, sha256, thumb=True).unlink(missing_ok=True)


def get_photo_for(session: Session, user: User, photo_id: int) -> Photo:
    """Return a photo whose household lies in the user's scope; otherwise 404."""
    photo = session.get(Photo, photo_id)
    household = session.get(Household, photo.household_id) if photo is not None else None
    if household is None or not is_in_scope(user, household.area_code):
        raise NotFound()
    return photo


# ---- leftovers -----------------------------------------------------------------------------


def remove_orphan_files(session: Session, folder: Path, older_than: timedelta, now: float | None = None) -> dict:
    """Remove photo files (full and thumbnail) that no visit or evidence photo names, and .part leftovers.

    Only files last written (or reused) more than `older_than` ago are touched: younger ones may belong to an
    upload that has not committed yet. Return what was removed per kind, and why photos were left if they were.
    """
    cutoff = (now if now is not None else time.time()) - older_than.total_seconds()
    removed = {"photos": _tally(), "temporaries": _tally()}
    if not Path(folder).is_dir():
        return removed
    # with no photo row at all, every file would look orphaned: more likely the wrong database than a fact
    trusted = any(session.exec(select(model.id).limit(1)).first() is not None for model in PHOTO_MODELS)
    if not trusted:
        removed["skipped"] = NO_ROWS
    for subfolder in sorted(Path(folder).glob("??")):  # one of 256 at a time: memory stays small
        candidates: dict[str, list[Path]] = {}
        for path in subfolder.iterdir():
            if path.name.endswith(TEMPORARY_SUFFIXES):
                _count(removed["temporaries"], _remove_if_still_old(path, cutoff))
            elif (match := PHOTO_FILE.fullmatch(path.name)) and trusted and _mtime(path) < cutoff:
                candidates.setdefault(match.group(1), []).append(path)
        for sha256 in candidates.keys() - _referenced(session, list(candidates)):
            for path in candidates[sha256]:
                _count(removed["photos"], _remove_if_still_old(path, cutoff))
    return removed


def _referenced(session: Session, hashes: list[str]) -> set[str]:
    found = set()
    for start in range(0, len(hashes), LOOKUP_BATCH):
        batch = hashes[start : start + LOOKUP_BATCH]
        for model in PHOTO_MODELS:
            found.update(session.exec(select(model.sha256).where(model.sha256.in_(batch))).all())
    return found


def _remove_if_still_old(path: Path, cutoff: float) -> int | None:
    """Remove a file unless it was made young meanwhile; return its size, or None if it stays.

    It is first moved aside and its age read again there: an upload of the same picture either touched it
    before (then it is young and goes back) or finds it gone and writes it anew (_write_atomically).
    """
    aside = path if path.name.endswith(TEMPORARY_SUFFIXES) else path.with_name(path.name + ".removing")
    try:
        if aside != path:
            os.replace(path, aside)
        stat = aside.stat()
        if stat.st_mtime >= cutoff:
            if aside != path:
                os.replace(aside, path)
            return None
        aside.unlink()
    except FileNotFoundError:  # another cleanup got there first
        return None
    return stat.st_size


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _tally() -> dict:
    return {"files": 0, "bytes": 0}


def _count(tally: dict, size: int | None) -> None:
    if size is not None:
        tally["files"] += 1
        tally["bytes"] += size
