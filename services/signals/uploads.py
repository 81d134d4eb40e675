"""The web's way into importing: receive a county's department list, preview what importing it would do (keeping
nothing), and import it once confirmed.

An upload waits for its 确认导入 in the shared upload folder (cleanup-files removes one nobody confirmed within a
day). The list is not kept once imported: its rows are stored, and the file holds every listed person's health or
death — the less of it lying around, the better.
"""

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from models import SignalImport
from services.audit import Actor
from services.errors import Invalid
from services.names import user_names
from services.roster.file import STORED_NAME, discard, display_name, store_upload
from services.scope import where_in_scope
from services.signals import importing, lists

EXPIRED = "这份名单已经导入过或预览已过期，请重新上传"


def max_file_bytes() -> int:
    """Return the largest list the reader takes (read when asked, so a test may lower it)."""
    return lists.LIMITS.file_bytes


def receive(stream, filename: str | None, folder: Path) -> str:
    """Store an upload under a random name in `folder` and return that name; a refused file is not kept."""
    return store_upload(
        stream, filename, folder, limit=max_file_bytes(), missing="请先选择要导入的名单文件", split_by="按乡镇"
    )


@dataclass
class Preview:
    """What importing a list would do; nothing of it is kept."""

    file_name: str
    kind: str
    outcome: importing.Outcome
    earlier: SignalImport | None = None
    earlier_by: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        return self.outcome.created > 0 or bool(self.outcome.candidates)


def preview(session: Session, actor: Actor, kind: str, county_code: str, path: Path, file_name: str) -> Preview:
    """Import the list inside a savepoint, note what it did, and undo it all: the database is left as it was."""
    savepoint = session.begin_nested()
    try:
        outcome = importing.import_file(session, actor, kind, county_code, path, file_name)
        result = Preview(file_name=file_name, kind=kind, outcome=outcome)
        if outcome.again:
            earlier = session.get(SignalImport, outcome.import_id)
            result.earlier = SignalImport.model_validate(earlier)  # a copy: the savepoint's rollback expires it
            result.earlier_by = user_names(session, {earlier.created_by_id}).get(earlier.created_by_id, "")
        return result
    finally:
        if savepoint.is_active:
            savepoint.rollback()


def import_upload(
    session: Session, actor: Actor, kind: str, county_code: str, uploads: Path, stored: str, file_name: str
) -> importing.Outcome:
    """Import a previewed upload in the caller's transaction and remove the file (its rows are stored)."""
    path = uploads / (stored or "")
    if not STORED_NAME.match(stored or "") or not path.is_file():
        raise Invalid(EXPIRED)
    try:
        outcome = importing.import_file(session, actor, kind, county_code, path, display_name(file_name))
    except FileNotFoundError:  # removed as unconfirmed (cleanup-files) between the check and the reading
        raise Invalid(EXPIRED) from None
    discard(uploads, stored)
    return outcome


def recent_imports(session: Session, user, limit: int = 5) -> list[tuple[SignalImport, str]]:
    """Return the lists imported in the user's scope, newest first, with who imported them."""
    query = (
        select(SignalImport)
        .where(where_in_scope(user, SignalImport.area_code))
        .order_by(SignalImport.created_at.desc(), SignalImport.id.desc())
        .limit(limit)
    )
    batches = list(session.exec(query))
    names = user_names(session, {b.created_by_id for b in batches})
    return [(b, names.get(b.created_by_id, "")) for b in batches]
