"""Import a county's result file and reconcile it with the registry, in the caller's one transaction.

Every row is stored once (its fingerprint: the same file imported again adds nothing). Then, for each program and
period in the file, the county's payments are held against who the registry says is due, and every problem becomes a
整改 item for the household's township (services/payouts/corrections.py closes them).
"""

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

from sqlmodel import Session, select

from models import Correction, Household, Payment, PayoutImport, utcnow
from services import audit
from services.bulk import insert_new
from services.clock import today_in_china
from services.errors import Invalid
from services.money import yuan
from services.payouts import due as dues
from services.payouts import result_file
from services.payouts.programs import all_programs, period_from_code

PROBLEM_KINDS = ("failed", "missing", "not_in_registry", "duplicates", "after_exit", "wrong_amount")
KIND_LABELS = {
    "failed": "发放失败",
    "missing": "应发未发",
    "not_in_registry": "不在册",
    "duplicates": "重复发放",
    "after_exit": "退出后仍发放",
    "wrong_amount": "金额不符",
}
CHUNK = 900  # ids per IN (…): SQLite's old limit on bound parameters is 999


@dataclass
class Outcome:
    """What importing a file did: the counts and every problem found, as the CLI's --json prints them."""

    rows: int = 0
    paid: int = 0
    created: int = 0
    import_id: int | None = None
    again: bool = False  # this county imported the very same file before
    problems: dict[str, list[dict]] = field(default_factory=lambda: {kind: [] for kind in PROBLEM_KINDS})
    errors: list[dict] = field(default_factory=list)
    periods: list[tuple[str, str]] = field(default_factory=list)  # (program, period) the file holds

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "paid": self.paid,
            "created": self.created,
            **self.problems,
            "errors": self.errors,
        }


def import_file(
    session: Session, actor: audit.Actor, county_code: str, path: Path, file_name: str, stored_name: str | None = None
) -> Outcome:
    """Store the file's payments once and reconcile them; refuse the whole file when a row cannot be read."""
    rows, errors = result_file.read(path)
    outcome = Outcome(rows=len(rows) + len(errors), errors=[e.as_dict() for e in errors])
    if errors:
        return outcome  # nothing stored: the county fixes the rows and imports the file again
    digest = _file_digest(path)
    earlier = session.exec(
        select(PayoutImport).where(PayoutImport.area_code == county_code, PayoutImport.sha256 == digest)
    ).first()
    everyone = dues.members(session, county_code)  # once, for matching the rows and for every program's due list
    people = {
        m.person.id_number: _Holder(m.person.id, m.household.id, m.household.area_code)
        for m in everyone
        if m.person.id_number
    }  # the county's registry only: a number from elsewhere counts as not in the registry
    batch = None
    with session.begin_nested():  # undoes only this import if a later step fails
        if earlier is None:
            batch = PayoutImport(
                area_code=county_code,
                file_name=file_name[:100],
                stored_name=stored_name,
                sha256=digest,
                rows=len(rows),
                created_by_id=getattr(actor.user, "id", None),
            )
            session.add(batch)
            session.flush()
        outcome.import_id = (batch or earlier).id
        outcome.again = earlier is not None
        outcome.created = _store(session, rows, people, county_code, outcome.import_id)
        outcome.paid = sum(1 for r in rows if r.status == "paid")
        outcome.periods = sorted({(r.program, r.period.code) for r in rows})
        for program, period in outcome.periods:
            _reconcile(session, county_code, program, period, outcome, everyone)
        created_items = _open_corrections(session, county_code, outcome)
        if batch is not None:
            batch.created = outcome.created
            batch.summary = _summary_json(outcome)
        audit.record(
            session,
            actor,
            "payouts.imported",
            batch or earlier,
            county=county_code,
            rows=outcome.rows,
            created=outcome.created,
            corrections=created_items,
            again=outcome.again,
        )
    return outcome


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


class PaymentFacts(NamedTuple):
    """What reconciling reads of a stored payment (plain rows: a county's month may be 100,000 of them)."""

    id: int
    row_no: int
    program_code: str
    period: str
    area_code: str
    person_id: int | None
    household_id: int | None
    name: str
    due_fen: int
    paid_fen: int
    status: str
    failure_reason: str | None


@dataclass
class _Holder:
    person_id: int
    household_id: int
    area_code: str


def _fingerprint(row: result_file.PaymentRow, occurrence: int) -> str:
    text = "|".join(
        str(part)
        for part in (
            row.program,
            row.period.code,
            row.id.number,
            row.due_fen,
            row.paid_fen,
            row.status,
            row.account_last4,
            occurrence,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _store(session: Session, rows, people, county_code: str, import_id: int) -> int:
    """Insert the rows not stored before (set-based); return how many are new."""
    seen: Counter = Counter()
    prints = []
    for row in rows:
        same = (row.program, row.period.code, row.id.number, row.due_fen, row.paid_fen, row.status, row.account_last4)
        prints.append(_fingerprint(row, seen[same]))  # the same row twice in one file is paid twice: both kept
        seen[same] += 1
    new = []
    now = utcnow()
    for row, fingerprint in zip(rows, prints, strict=True):
        holder = people.get(row.id.number)
        new.append(
            {
                "fingerprint": fingerprint,
                "import_id": import_id,
                "row_no": row.row,
                "program_code": row.program,
                "period": row.period.code,
                "county_code": county_code,
                "area_code": holder.area_code if holder else county_code,
                "person_id": holder.person_id if holder else None,
                "household_id": holder.household_id if holder else None,
                "name": row.name,
                "id_number": row.id.number,
                "account_last4": row.account_last4,
                "due_fen": row.due_fen,
                "paid_fen": row.paid_fen,
                "status": row.status,
                "failure_reason": row.reason,
                "created_at": now,
            }
        )
    return insert_new(session, Payment.__table__, new, "fingerprint")


def _key(program: str, payment) -> str | None:
    if payment.household_id is None:
        return None
    return f"h{payment.household_id}" if program == "dibao" else f"p{payment.person_id}"


def _reconcile(session: Session, county_code: str, program: str, period: str, outcome: Outcome, everyone) -> None:
    """Hold the county's payments of one program and period against who is due; add each problem to outcome."""
    payments = [
        PaymentFacts(*p)
        for p in session.exec(
            select(*(getattr(Payment, name) for name in PaymentFacts._fields))
            .where(Payment.program_code == program, Payment.period == period, Payment.county_code == county_code)
            .order_by(Payment.id)
        )
    ]
    when = period_from_code(period)
    due = dues.due_for(session, program, when, county_code, everyone)
    exits = _exits(session, {p.household_id for p in payments if p.household_id})
    deaths = {m.person.id: m.person.died_on for m in everyone if m.person.died_on is not None}
    by_key: dict[str, list[Payment]] = defaultdict(list)
    label = when.label
    for payment in payments:
        key = _key(program, payment)
        if key is None:
            outcome.problems["not_in_registry"].append(
                _entry(payment, None, f"{label}：身份证号码不在本县（区）在册人员中（{payment.name}）")
            )
            continue
        by_key[key].append(payment)
    for key, group in by_key.items():
        paid = [p for p in group if p.status == "paid"]
        if not paid:
            for p in group:
                outcome.problems["failed"].append(_entry(p, key, f"{label}发放失败：{p.failure_reason}"))
        if len(paid) > 1:
            outcome.problems["duplicates"].append(
                _entry(paid[-1], key, f"{label}同一{'户' if program == 'dibao' else '人'}发放了 {len(paid)} 次")
            )
        exited = exits.get(group[0].household_id)
        died = deaths.get(group[0].person_id) if program != "dibao" else None
        if paid and exited is not None and when.first_day > _month_end(exited):
            outcome.problems["after_exit"].append(
                _entry(paid[-1], key, f"{exited.year}年{exited.month}月已退出在册，仍发放了{label}，需追回")
            )
        elif paid and died is not None and when.first_day > died:  # a death list said so (services/signals)
            outcome.problems["after_exit"].append(
                _entry(paid[-1], key, f"{died.isoformat()} 已去世，仍发放了{label}，需追回")
            )
        for p in paid:
            standard = due[key].amount_fen if key in due and program not in ("dibao", "tekun") else None
            if p.paid_fen != p.due_fen:
                reason = f"{label}实发 {yuan(p.paid_fen)} 元，应发 {yuan(p.due_fen)} 元"
                outcome.problems["wrong_amount"].append(_entry(p, key, reason))
            elif standard is not None and p.paid_fen != standard:
                reason = f"{label}实发 {yuan(p.paid_fen)} 元，市定标准 {yuan(standard)} 元"
                outcome.problems["wrong_amount"].append(_entry(p, key, reason))
    for key, person in due.items():
        if key not in by_key:
            outcome.problems["missing"].append(
                {
                    "household_id": person.household_id,
                    "row": None,
                    "reason": f"{label}应发而结果文件里没有（{person.name}）",
                    "_program": program,
                    "_period": period,
                    "_key": key,
                    "_person_id": person.person_id,
                    "_area": person.area_code,
                }
            )


def _entry(payment: Payment, key: str | None, reason: str) -> dict:
    return {
        "household_id": payment.household_id,
        "row": payment.row_no,
        "reason": reason,
        "_program": payment.program_code,
        "_period": payment.period,
        "_key": key or f"pay{payment.id}",
        "_person_id": payment.person_id,
        "_payment_id": payment.id,
        "_area": payment.area_code,
    }


def _exits(session: Session, household_ids: set[int]) -> dict[int, date]:
    """Return when each of these households left the register (exited households only)."""
    found = {}
    ordered = sorted(household_ids)
    for start in range(0, len(ordered), CHUNK):
        rows = session.exec(
            select(Household.id, Household.exited_at).where(
                Household.id.in_(ordered[start : start + CHUNK]), Household.status == "exited"
            )
        )
        found.update({hid: (at.date() if at else date.min) for hid, at in rows})
    return found


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _open_corrections(session: Session, county_code: str, outcome: Outcome) -> int:
    """Make a 整改 item of every problem not already one; return how many are new."""
    programs = all_programs(session)
    today, now = today_in_china(), utcnow()
    wanted = {}
    for kind, entries in outcome.problems.items():
        stored_kind = "duplicate" if kind == "duplicates" else kind
        for entry in entries:
            key = f"{stored_kind}:{entry['_program']}:{entry['_period']}:{entry['_key']}"[:120]
            wanted.setdefault(key, (stored_kind, entry))
    existing = set()
    keys = sorted(wanted)
    for start in range(0, len(keys), CHUNK):
        existing.update(session.exec(select(Correction.key).where(Correction.key.in_(keys[start : start + CHUNK]))))
    new = []
    for key in keys:
        if key in existing:
            continue
        kind, entry = wanted[key]
        days = programs[entry["_program"]].correction_days if entry["_program"] in programs else 15
        new.append(
            {
                "key": key,
                "kind": kind,
                "program_code": entry["_program"],
                "period": entry["_period"],
                "area_code": entry["_area"] if entry["household_id"] else county_code,
                "household_id": entry["household_id"],
                "person_id": entry.get("_person_id"),
                "payment_id": entry.get("_payment_id"),
                "reason": entry["reason"][:300],
                "deadline": today + timedelta(days=days),
                "status": "open",
                "created_at": now,
            }
        )
    insert_new(session, Correction.__table__, new, "key")
    for entries in outcome.problems.values():
        for entry in entries:
            for private in [k for k in entry if k.startswith("_")]:
                del entry[private]
    return len(new)


def _summary_json(outcome: Outcome) -> str:
    counts = {kind: len(entries) for kind, entries in outcome.problems.items()}
    return json.dumps({"rows": outcome.rows, "paid": outcome.paid, "created": outcome.created, **counts})


def refuse_if_errors(outcome: Outcome) -> None:
    """Raise Invalid naming the first rows that cannot be read (the web and the CLI say it the same way)."""
    if outcome.errors:
        shown = "；".join(e["reason"] for e in outcome.errors[:5])
        more = f"（另有 {len(outcome.errors) - 5} 行）" if len(outcome.errors) > 5 else ""
        raise Invalid(f"结果文件有 {len(outcome.errors)} 行读不了，没有导入：{shown}{more}")
