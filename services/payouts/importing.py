"""The web's way into reconcile: receive a county's result file, preview what importing it would do (keeping
nothing), import it, and find the files a county imported before.

An upload waits for its 确认导入 in the roster's upload folder (cleanup-files removes one nobody confirmed within a
day); an imported file moves to <payouts folder>/<county code>/<random name>, never under static/.
"""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import case, func
from sqlmodel import Session, select

from models import Correction, Payment, PayoutImport
from services import audit
from services.alerts import engine
from services.audit import Actor
from services.errors import Invalid, NotFound
from services.inputs import is_row_id
from services.names import user_names
from services.paging import page_of
from services.payouts import reconcile, result_file
from services.payouts.programs import all_programs, period_from_code
from services.permissions import require
from services.registry import idnumber
from services.registry.areas import area_names
from services.roster.file import STORED_NAME, discard, display_name, store_upload
from services.scope import is_in_scope, where_in_scope, where_under

EXPIRED = "这份文件已经导入过或预览已过期，请重新上传"
AGAIN = "这个文件导入过了，没有新增"
SAMPLE_ROWS = 10
# the reconciliation's problem kinds (plural in its summary) → a Correction's kind
KIND_LABELS = reconcile.KIND_LABELS
CORRECTION_KIND = {kind: ("duplicate" if kind == "duplicates" else kind) for kind in reconcile.PROBLEM_KINDS}


def max_file_bytes() -> int:
    """Return the largest result file the reader takes (read when asked, so a test may lower it)."""
    return result_file.LIMITS.file_bytes


# ---- receiving -----------------------------------------------------------------------------


def receive(stream, filename: str | None, folder: Path) -> str:
    """Store an upload under a random name in `folder` and return that name; a refused file is not kept."""
    return store_upload(
        stream, filename, folder, limit=max_file_bytes(), missing="请先选择要导入的发放结果文件", split_by="按项目"
    )


# ---- preview -------------------------------------------------------------------------------


@dataclass
class PeriodRow:
    """One program and period of a file: how many rows, paid and failed, and the money paid."""

    program: str
    period: str
    rows: int
    paid: int
    failed: int
    paid_fen: int


@dataclass
class SampleRow:
    row: int
    name: str
    id_masked: str
    program: str
    period: str
    paid_fen: int
    status: str
    reason: str | None


@dataclass
class Preview:
    """What importing a file would do; nothing of it is kept."""

    file_name: str
    outcome: reconcile.Outcome
    corrections: int = 0  # new 整改 items importing would open
    periods: list[PeriodRow] = field(default_factory=list)
    sample: list[SampleRow] = field(default_factory=list)
    earlier_at: object = None  # when the same file was imported before
    earlier_by: str = ""

    @property
    def importable(self) -> bool:
        return not self.outcome.errors and not self.outcome.again

    @property
    def counts(self) -> dict[str, int]:
        return {kind: len(entries) for kind, entries in self.outcome.problems.items()}


def preview(session: Session, actor: Actor, county_code: str, path: Path, file_name: str) -> Preview:
    """Import the file inside a savepoint, note what it did, and undo it all: the database is left as it was."""
    savepoint = session.begin_nested()
    try:
        before = _correction_count(session, county_code)
        outcome = reconcile.import_file(session, actor, county_code, path, file_name)
        result = Preview(file_name=file_name, outcome=outcome)
        if outcome.errors:
            return result
        result.corrections = _correction_count(session, county_code) - before
        result.periods = _periods(session, outcome.import_id)
        result.sample = _sample(session, outcome.import_id)
        if outcome.again:
            earlier = session.get(PayoutImport, outcome.import_id)
            result.earlier_at = earlier.created_at
            result.earlier_by = _user_name(session, earlier.created_by_id)
        return result
    finally:
        if savepoint.is_active:
            savepoint.rollback()


def _correction_count(session: Session, county_code: str) -> int:
    query = select(func.count()).select_from(Correction).where(where_under(county_code, Correction.area_code))
    return session.exec(query).one()


def _periods(session: Session, import_id: int) -> list[PeriodRow]:
    paid = case((Payment.status == "paid", 1), else_=0)
    query = (
        select(
            Payment.program_code,
            Payment.period,
            func.count(),
            func.coalesce(func.sum(paid), 0),
            func.coalesce(func.sum(Payment.paid_fen), 0),
        )
        .where(Payment.import_id == import_id)
        .group_by(Payment.program_code, Payment.period)
        .order_by(Payment.program_code, Payment.period)
    )
    return [PeriodRow(p, q, n, int(ok), n - int(ok), int(fen)) for p, q, n, ok, fen in session.exec(query)]


def _sample(session: Session, import_id: int) -> list[SampleRow]:
    query = (
        select(
            Payment.row_no,
            Payment.name,
            Payment.id_number,
            Payment.program_code,
            Payment.period,
            Payment.paid_fen,
            Payment.status,
            Payment.failure_reason,
        )
        .where(Payment.import_id == import_id)
        .order_by(Payment.row_no, Payment.id)
        .limit(SAMPLE_ROWS)
    )
    return [
        SampleRow(row, name, idnumber.mask(number), program, period, fen, status, reason)
        for row, name, number, program, period, fen, status, reason in session.exec(query)
    ]


def _user_name(session: Session, user_id: int | None) -> str:
    return user_names(session, {user_id}).get(user_id, "")


# ---- importing -----------------------------------------------------------------------------


def import_upload(
    session: Session, actor: Actor, county_code: str, uploads: Path, stored: str, file_name: str, keep: Path
) -> reconcile.Outcome:
    """Import a previewed upload in the caller's transaction and keep the file under keep/<county>/.

    A file imported before stores nothing new and its upload is removed. The caller commits; should the commit
    fail, the moved file is left without a record (harmless, in a private folder).
    """
    path = uploads / (stored or "")
    if not STORED_NAME.match(stored or "") or not path.is_file():
        raise Invalid(EXPIRED)
    try:
        outcome = reconcile.import_file(session, actor, county_code, path, display_name(file_name), stored)
    except FileNotFoundError:  # removed as unconfirmed (cleanup-files) between the check and the reading
        raise Invalid(EXPIRED) from None
    reconcile.refuse_if_errors(outcome)
    if outcome.again:
        discard(uploads, stored)
        return outcome
    engine.run_cheap(session, actor, "payouts.import")  # 失败未补发、退出后仍发放 … as soon as the file is in
    target = keep / county_code
    target.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target / stored)
    return outcome


# ---- the imports made before ---------------------------------------------------------------


@dataclass
class ImportRow:
    batch: PayoutImport
    county: str
    by: str
    has_file: bool


def imports_in_scope(user):
    """Return a select() of the result files imported in the user's scope, newest first."""
    return (
        select(PayoutImport)
        .where(where_in_scope(user, PayoutImport.area_code))
        .order_by(PayoutImport.created_at.desc(), PayoutImport.id.desc())
    )


def list_rows(session: Session, query, keep: Path, *, offset: int, limit: int) -> tuple[list[ImportRow], bool]:
    """Return one page of imports with the county's and the importer's names (two queries more)."""
    batches, has_more = page_of(session, query, offset=offset, limit=limit)
    users = user_names(session, {b.created_by_id for b in batches})
    counties = area_names(session, {b.area_code for b in batches})
    rows = [
        ImportRow(b, counties.get(b.area_code, b.area_code), users.get(b.created_by_id, ""), bool(stored_file(keep, b)))
        for b in batches
    ]
    return rows, has_more


def import_row(session: Session, keep: Path, batch: PayoutImport) -> ImportRow:
    """Return one import named as the list names it."""
    county = area_names(session, {batch.area_code}).get(batch.area_code, batch.area_code)
    by = user_names(session, {batch.created_by_id}).get(batch.created_by_id, "")
    return ImportRow(batch, county, by, bool(stored_file(keep, batch)))


def record_download(session: Session, actor: Actor, batch: PayoutImport) -> None:
    """Note in the audit trail who took a copy of a result file (it holds every payee's ID number)."""
    audit.record(session, actor, "payouts.file_downloaded", batch, county=batch.area_code, file=batch.file_name)


def get_import_for(session: Session, user, import_id: int) -> PayoutImport:
    """Return an import of a county in the user's scope (else 404) that the user may look at (else 403)."""
    batch = session.get(PayoutImport, import_id) if is_row_id(import_id) else None
    if batch is None or not is_in_scope(user, batch.area_code):
        raise NotFound()
    require(user, "payouts.view")
    return batch


def stored_file(keep: Path, batch: PayoutImport) -> Path | None:
    """Return where an import's file is kept, if it is (imports from the command line keep none)."""
    if not batch.stored_name or not STORED_NAME.match(batch.stored_name):
        return None
    path = keep / batch.area_code / batch.stored_name
    return path if path.is_file() else None


@dataclass
class KindCount:
    kind: str  # a Correction's kind, for the 整改 list's filter
    label: str
    count: int


@dataclass
class Summary:
    """An import as its page shows it: the counts it found and the programs and periods it held."""

    rows: int
    paid: int
    created: int
    kinds: list[KindCount]
    periods: list[PeriodRow]
    program: str = ""  # the one program and period of the file, to narrow the 整改 links
    period: str = ""


def summary(session: Session, batch: PayoutImport) -> Summary:
    """Return what the import found (its stored summary) and the programs and periods of its payments."""
    counts = json.loads(batch.summary or "{}")
    kinds = [
        KindCount(CORRECTION_KIND[kind], label, int(counts.get(kind, 0)))
        for kind, label in reconcile.KIND_LABELS.items()
    ]
    periods = _periods(session, batch.id)
    found = Summary(
        rows=int(counts.get("rows", batch.rows)),
        paid=int(counts.get("paid", 0)),
        created=int(counts.get("created", batch.created)),
        kinds=kinds,
        periods=periods,
    )
    if len(periods) == 1:
        found.program, found.period = periods[0].program, periods[0].period
    return found


def labels(session: Session) -> tuple[dict[str, str], Callable[[str], str]]:
    """Return the programs' names and a function naming a period code (2026年3月)."""
    names = {code: program.name for code, program in all_programs(session).items()}

    def period_label(code: str) -> str:
        try:
            return period_from_code(code).label
        except Invalid:
            return code

    return names, period_label
