"""The demo county's bank result for last month's 低保: most paid, a few 退票, a couple never paid (整改 to do)."""

import csv
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from services.audit import Actor
from services.money import fen_to_yuan
from services.payouts import due, reconcile
from services.payouts.programs import Period, all_programs

FAILURES = ("账户已冻结", "户名与账号不符", "已销户")
MISSING = 2
DEFAULT_FEN = 60000  # a household whose roll has no amount: 600 元


@dataclass
class DemoPayouts:
    rows: int = 0
    failed: int = 0
    missing: int = 0


def seed_payouts(session: Session, county: Actor, township_code: str, rng, today: date) -> DemoPayouts:
    """Import last month's 低保 result file for the demo county, as its officer would; return what it held.

    The 退票 and the households left out are the demo township's where it has enough, so its officer has 整改 to do.
    """
    month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    period = Period(month.year, month.month)
    county_code = county.user.area_code
    owed = sorted(due.due_for(session, "dibao", period, county_code).values(), key=lambda d: d.household_id)
    owed = [d for d in owed if d.id_number]
    if len(owed) < len(FAILURES) + MISSING + 1:
        return DemoPayouts()
    ours = [i for i, d in enumerate(owed) if d.area_code.startswith(township_code[:9])]
    pool = ours if len(ours) >= len(FAILURES) + MISSING else list(range(len(owed)))
    skipped = set(rng.sample(pool, MISSING))
    chosen = rng.sample([i for i in pool if i not in skipped], len(FAILURES))
    failing = dict(zip(chosen, FAILURES, strict=True))
    programs = all_programs(session)
    if "dibao" not in programs:  # a database without the seeded programs: no payouts to show
        return DemoPayouts()
    name = programs["dibao"].name
    rows = []
    for index, person in enumerate(owed):
        if index in skipped:
            continue
        amount = fen_to_yuan(person.amount_fen or DEFAULT_FEN)
        reason = failing.get(index)
        paid = "0" if reason else amount
        account = f"62284800{person.household_id:08d}"
        rows.append([person.name, person.id_number, name, period.code, amount, paid, account,
                     "失败" if reason else "成功", reason or ""])  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{period.code}低保一卡通发放结果.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f"{period.label}城乡低保一卡通发放结果（演示）"])
            writer.writerow(
                ["姓名", "身份证号码", "项目", "发放期间", "应发金额", "实发金额", "银行账号", "发放状态", "失败原因"]
            )
            writer.writerows(rows)
        outcome = reconcile.import_file(session, county, county_code, path, path.name)
    return DemoPayouts(
        rows=outcome.rows, failed=len(outcome.problems["failed"]), missing=len(outcome.problems["missing"])
    )
