"""Payments for tests, stored directly: a county's result file (PayoutImport) and its rows (Payment)."""

import uuid

from sqlmodel import select

from models import Household, Payment, PayoutImport, Person
from services.clock import today_in_china
from services.payouts.programs import Period
from services.payouts.status import current_period, previous
from tests.conftest import COUNTY


def month(back: int = 0) -> str:
    """Return the code of the month `back` months before this one (0: this month)."""
    period = current_period("monthly", today_in_china())
    for _ in range(back):
        period = previous(period)
    return period.code


def label(code: str) -> str:
    """Return how pages name a period code: 2026年3月."""
    year, rest = code.split("-") if "-" in code else (code, "")
    if rest.startswith("Q"):
        return Period(int(year), quarter=int(rest[1])).label
    return Period(int(year), int(rest)).label if rest else Period(int(year)).label


def add_import(session, county: str = COUNTY) -> PayoutImport:
    """Add one imported result file of a county."""
    batch = PayoutImport(area_code=county, file_name="结果.xlsx", sha256=uuid.uuid4().hex * 2, rows=0)
    session.add(batch)
    session.flush()
    return batch


def head_of(session, household: Household) -> Person:
    return session.exec(select(Person).where(Person.household_id == household.id, Person.is_head)).one()


def pay(
    session,
    batch: PayoutImport,
    program: str,
    period: str,
    household: Household | None = None,
    person: Person | None = None,
    *,
    status: str = "paid",
    reason: str | None = None,
    fen: int = 60000,
    name: str = "某人",
    id_number: str = "530902199001011234",
) -> Payment:
    """Add one payment row of a file: to a registered person (the household's head by default), or to nobody."""
    if household is not None and person is None:
        person = head_of(session, household)
    payment = Payment(
        fingerprint=uuid.uuid4().hex,
        import_id=batch.id,
        row_no=1,
        program_code=program,
        period=period,
        county_code=batch.area_code,
        area_code=household.area_code if household else batch.area_code,
        person_id=person.id if person else None,
        household_id=household.id if household else None,
        name=person.name if person else name,
        id_number=(person.id_number if person else None) or id_number,
        due_fen=fen,
        paid_fen=fen if status == "paid" else 0,
        status=status,
        failure_reason=reason if status == "failed" else None,
    )
    session.add(payment)
    session.flush()
    return payment


def id_number(birth: str, serial: str = "123", area: str = "530902") -> str:
    """Return a valid ID number of someone born on `birth` (YYYYMMDD)."""
    from services.registry.idnumber import check_digit

    first17 = f"{area}{birth}{serial}"
    return first17 + check_digit(first17)


HEADER = "姓名,身份证号码,项目,发放期间,应发金额,实发金额,银行账号,发放状态,失败原因"


def import_csv(session, tmp_path, user, rows: list[str], county: str = COUNTY):
    """Import a result file of these CSV rows (under the bank's header) as the county would; commit."""
    from services.audit import Actor
    from services.payouts import reconcile

    path = tmp_path / f"结果{uuid.uuid4().hex[:6]}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    outcome = reconcile.import_file(session, Actor(user), county, path, path.name)
    assert not outcome.errors, outcome.errors
    session.commit()
    return outcome
