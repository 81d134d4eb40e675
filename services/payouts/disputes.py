"""核实是否到账: the family tells the assistant the money did not come, and the bank says it was paid.

The visit's self-check 本月保障金已到账 asks about 低保 and 特困. When it is answered no and the bank's results show a
payment of either to the household for the visit's month or the month before, the township gets a 整改 item of kind
`disputed` to check with the family and the bank (one per program, for the newest paid month). One query per visit.
"""

import json
from datetime import timedelta

from sqlmodel import Session, select

from models import Correction, Household, Payment, Visit
from services import audit
from services.clock import china_date, today_in_china
from services.money import yuan
from services.payouts.programs import Period, period_from_code
from services.payouts.status import previous

SELF_CHECK = "payment_received"
PROGRAMS = ("dibao", "tekun")  # what 本月保障金 means: the self-check is asked of 低保 and 特困 households
DAYS_TO_CHECK = 15
REASON = "银行显示已到账，家人说没有收到"


def note_family_says_unpaid(
    session: Session, visit: Visit, household: Household, actor: audit.Actor | None = None
) -> list[Correction]:
    """Open a 核实是否到账 item for each program the bank paid this month or last while the family says no."""
    if json.loads(visit.self_checks or "{}").get(SELF_CHECK) is not False:
        return []
    day = china_date(visit.visited_at)
    this_month = Period(day.year, day.month)
    months = [this_month.code, previous(this_month).code]
    paid = session.exec(
        select(Payment)
        .where(
            Payment.household_id == household.id,
            Payment.status == "paid",
            Payment.program_code.in_(PROGRAMS),
            Payment.period.in_(months),
        )
        .order_by(Payment.period.desc(), Payment.id.desc())
    ).all()
    newest: dict[str, Payment] = {}
    for payment in paid:
        newest.setdefault(payment.program_code, payment)
    deadline = today_in_china() + timedelta(days=DAYS_TO_CHECK)
    opened = []
    for program in PROGRAMS:
        payment = newest.get(program)
        if payment is None:
            continue
        label = period_from_code(payment.period).label
        item = Correction(
            key=f"disputed:{program}:{payment.period}:v{visit.id}",
            kind="disputed",
            program_code=program,
            period=payment.period,
            area_code=household.area_code,
            household_id=household.id,
            person_id=payment.person_id,
            payment_id=payment.id,
            visit_id=visit.id,
            reason=f"{label}{REASON}（实发 {yuan(payment.paid_fen)} 元，{day.month}月{day.day}日走访时问到）",
            deadline=deadline,
        )
        session.add(item)
        opened.append(item)
    if opened and actor is not None:
        audit.record(session, actor, "payouts.disputed", visit, household_id=household.id, keys=[c.key for c in opened])
    return opened
