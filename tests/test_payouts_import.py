"""Importing a county's 一卡通 result file: every kind of problem found, exactly, once; bad files change nothing."""

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from models import AuditEvent, Correction, Household, Payment, PayoutImport, Person, PersonCategory
from services.audit import Actor
from services.clock import china_date
from services.payouts import reconcile
from tests.conftest import COUNTY, VILLAGE_A, VILLAGE_B
from tests.payout_files import row, synthetic_id, write_csv, write_xlsx

MONTHS = ("2026-01", "2026-02", "2026-03")
HOUSEHOLDS = 1000  # × 3 months = a 3,000-row file
ALLOWANCE_FEN = 50000
ACTOR = Actor(user=None, ip="test")


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def dibao_households(session, how_many: int) -> list[tuple[Household, Person]]:
    """Register households of 临翔区 whose head is on 低保 at 500 元 a month (set-based: a few flushes in all)."""
    households = [
        Household(area_code=VILLAGE_A if i % 2 else VILLAGE_B, household_no=f"{9000 + i:05d}") for i in range(how_many)
    ]
    session.add_all(households)
    session.flush()
    heads = [
        Person(
            household_id=h.id,
            name=f"户主{i}",
            is_head=True,
            id_number=synthetic_id(i),
            id_last4=synthetic_id(i)[-4:],
            monthly_allowance_fen=ALLOWANCE_FEN,
        )
        for i, h in enumerate(households)
    ]
    session.add_all(heads)
    session.flush()
    session.add_all(PersonCategory(person_id=p.id, category="dibao") for p in heads)
    session.commit()
    return list(zip(households, heads, strict=True))


@pytest.fixture
def planted(session, tmp_path):
    """A 3,000-row 低保 file for three months with one of each problem planted; return the file and what was planted."""
    county = dibao_households(session, HOUSEHOLDS)
    rows = {(i, month): row(head.name, head.id_number, period=month) for i, (_h, head) in enumerate(county)
            for month in MONTHS}  # fmt: skip
    rows[(5, "2026-02")] = row(county[5][1].name, county[5][1].id_number, period="2026-02", paid="0", status="失败",
                               reason="账户已冻结")  # fmt: skip
    del rows[(7, "2026-03")]  # missing
    rows[(9, "2026-03")] = rows[(8, "2026-03")]  # 8 paid twice in March, and so 9 is missing too
    stranger = synthetic_id(5000, born="1970")
    rows[("stranger", "2026-03")] = row("王陌生", stranger, period="2026-03")
    rows[(13, "2026-01")] = row(county[13][1].name, county[13][1].id_number, period="2026-01", paid="400.00")
    exited = county[11][0]
    exited.status, exited.exited_at = "exited", datetime(2026, 1, 15, 8, tzinfo=UTC)
    session.add(exited)
    session.commit()
    path = write_csv(tmp_path / "临翔区2026年一季度低保发放结果.csv", list(rows.values()))
    return {"path": path, "county": county, "rows": len(rows), "stranger": stranger}


def household_of(planted, index: int) -> int:
    return planted["county"][index][0].id


def found(outcome, kind: str) -> list[tuple]:
    return sorted((e["household_id"], e["reason"][:8]) for e in outcome.problems[kind])


def test_a_3000_row_file_finds_exactly_the_problems_planted(session, planted):
    outcome = reconcile.import_file(session, ACTOR, COUNTY, planted["path"], planted["path"].name)
    session.commit()
    assert planted["rows"] == 3000 and outcome.rows == 3000 and outcome.errors == []
    assert outcome.created == 3000 and count(session, Payment) == 3000
    h = lambda i: household_of(planted, i)  # noqa: E731
    assert found(outcome, "failed") == [(h(5), "2026年2月发")]
    assert [e["reason"] for e in outcome.problems["failed"]] == ["2026年2月发放失败：账户已冻结"]
    assert sorted(e["household_id"] for e in outcome.problems["missing"]) == sorted([h(7), h(9)])
    assert [(e["household_id"], e["row"] is not None) for e in outcome.problems["not_in_registry"]] == [(None, True)]
    assert [e["household_id"] for e in outcome.problems["duplicates"]] == [h(8)]
    assert sorted(e["reason"][:7] for e in outcome.problems["after_exit"]) == ["2026年1月"] * 2
    assert all(e["household_id"] == h(11) for e in outcome.problems["after_exit"])
    assert [(e["household_id"], e["reason"]) for e in outcome.problems["wrong_amount"]] == [
        (h(13), "2026年1月实发 400 元，应发 500 元")
    ]
    corrections = session.exec(select(Correction)).all()
    assert sorted(c.kind for c in corrections) == sorted(
        ["failed", "missing", "missing", "not_in_registry", "duplicate", "after_exit", "after_exit", "wrong_amount"]
    )
    failed = next(c for c in corrections if c.kind == "failed")
    assert failed.household_id == h(5) and failed.area_code == planted["county"][5][0].area_code
    assert failed.status == "open" and (failed.deadline - china_date(failed.created_at)).days == 15
    assert next(c for c in corrections if c.kind == "not_in_registry").area_code == COUNTY  # the county handles it


def test_importing_the_same_file_again_creates_nothing(session, planted):
    reconcile.import_file(session, ACTOR, COUNTY, planted["path"], planted["path"].name)
    session.commit()
    before = (count(session, Payment), count(session, Correction), count(session, PayoutImport))
    again = reconcile.import_file(session, ACTOR, COUNTY, planted["path"], planted["path"].name)
    session.commit()
    assert again.created == 0 and again.again
    assert (count(session, Payment), count(session, Correction), count(session, PayoutImport)) == before
    assert len(again.problems["missing"]) == 2  # the problems are still there, still one item each


def test_the_same_rows_saved_again_as_another_file_create_nothing_new(session, planted, tmp_path):
    reconcile.import_file(session, ACTOR, COUNTY, planted["path"], planted["path"].name)
    session.commit()
    copy = tmp_path / "copy.csv"
    copy.write_bytes(planted["path"].read_bytes().replace(b"09:30", b"10:45"))  # another export of the same results
    again = reconcile.import_file(session, ACTOR, COUNTY, copy, copy.name)
    session.commit()
    assert again.created == 0 and not again.again and count(session, Payment) == 3000


def test_the_command_line_prints_one_json_object_and_imports_once(app, planted, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-payouts", str(planted["path"]), "--area", COUNTY, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"rows", "paid", "created", "failed", "missing", "not_in_registry", "duplicates", "after_exit",
                         "wrong_amount", "errors"}  # fmt: skip
    assert body["rows"] == 3000 and body["created"] == 3000 and body["paid"] == 2999 and body["errors"] == []
    assert all(set(entry) == {"household_id", "row", "reason"} for entry in body["missing"] + body["failed"])
    again = json.loads(runner.invoke(args=["import-payouts", str(planted["path"]), "--area", COUNTY, "--json"]).output)
    assert again["created"] == 0
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "payouts.imported")).all()
    assert len(events) == 2


def test_the_command_line_refuses_an_area_that_is_not_a_county(app, planted):
    result = app.test_cli_runner().invoke(args=["import-payouts", str(planted["path"]), "--area", VILLAGE_A])
    assert result.exit_code != 0 and "不是县（区）的区划代码" in result.output


# ---- bad input: a Chinese message naming the row, and nothing stored -------------------------------


def imported_nothing(session) -> bool:
    return count(session, Payment) == count(session, Correction) == count(session, PayoutImport) == 0


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (row("张三", "530902196001010010", period="2026-03"), "第 5 行：身份证号校验位不对"),
        (row("张三", synthetic_id(1), period="2026-13"), "第 5 行：发放期间“2026-13”的月份不对"),
        (row("张三", synthetic_id(1), paid="-50"), "第 5 行：实发金额不能是负数"),
        (row("张三", synthetic_id(1), due="-50"), "第 5 行：应发金额不能是负数"),
        (row("张三", synthetic_id(1), program="慰问金"), "第 5 行：项目“慰问金”不是市里设的补贴项目"),
        (row("张三", synthetic_id(1), status="处理中"), "第 5 行：发放状态“处理中”看不懂"),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_imported(app, session, tmp_path, bad_row, message):
    dibao_households(session, 3)
    path = write_csv(tmp_path / "bad.csv", [row("户主0", synthetic_id(0)), bad_row, row("户主2", synthetic_id(2))])
    outcome = reconcile.import_file(session, ACTOR, COUNTY, path, path.name)
    assert [e["row"] for e in outcome.errors] == [5] and outcome.errors[0]["reason"].startswith(message)
    assert outcome.created == 0 and imported_nothing(session)
    result = app.test_cli_runner().invoke(args=["import-payouts", str(path), "--area", COUNTY, "--json"])
    assert result.exit_code != 0 and message in result.output
    assert imported_nothing(session)


def test_a_broken_workbook_is_refused_in_plain_words(app, session, tmp_path):
    path = tmp_path / "结果.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook" * 20)
    result = app.test_cli_runner().invoke(args=["import-payouts", str(path), "--area", COUNTY])
    assert result.exit_code != 0 and "文件打不开" in result.output
    assert imported_nothing(session)


def test_a_file_with_no_id_column_is_refused_naming_the_column(app, session, tmp_path):
    header = ["姓名", "项目", "发放期间", "应发金额", "实发金额", "银行账号", "发放状态", "失败原因"]
    path = write_xlsx(
        tmp_path / "no-id.xlsx", [["张三", "城乡低保", "2026-03", "500", "500", "6228", "成功", ""]], header
    )
    result = app.test_cli_runner().invoke(args=["import-payouts", str(path), "--area", COUNTY])
    assert result.exit_code != 0 and "表头缺少这些列：“身份证号码”" in result.output
    assert imported_nothing(session)


def test_full_width_digits_and_an_xlsx_with_numbers_read_as_the_bank_meant(session, tmp_path):
    [(household, head)] = dibao_households(session, 1)
    wide = head.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    path = write_xlsx(
        tmp_path / "r.xlsx", [[head.name, wide, "低保金", "2026年3月", 500, 500.0, 6228, "发放成功", None]]
    )
    outcome = reconcile.import_file(session, ACTOR, COUNTY, path, path.name)
    session.commit()
    [payment] = session.exec(select(Payment)).all()
    assert outcome.errors == [] and payment.household_id == household.id and payment.period == "2026-03"
    assert payment.paid_fen == payment.due_fen == 50000 and payment.status == "paid"
