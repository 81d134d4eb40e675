"""Department lists: matched by ID number, alerts for registered people, candidates for the others, once."""

import json

import pytest
from sqlmodel import func, select

from models import (
    Alert,
    AlertRule,
    AuditEvent,
    Candidate,
    Household,
    Person,
    PersonCategory,
    SignalImport,
    SignalRecord,
)
from services.audit import Actor
from services.errors import Invalid
from services.payouts import due as dues
from services.payouts.programs import parse_period
from services.signals import importing
from tests.conftest import COUNTY, OTHER_COUNTY, TOWNSHIP, VILLAGE_A, VILLAGE_B, add_household
from tests.payout_files import synthetic_id
from tests.signal_files import medical, write

ACTOR = Actor(user=None, ip="test")
STRANGER = synthetic_id(4000, born="1975")  # nobody registered this number


def count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def run(session, tmp_path, kind, rows, name="list.csv", county=COUNTY, header=None):
    path = write(tmp_path / name, kind, rows, header)
    outcome = importing.import_file(session, ACTOR, kind, county, path, path.name)
    session.commit()
    return outcome


def test_a_medical_list_raises_one_alert_and_one_candidate_and_again_nothing(session, world, tmp_path):
    rows = [
        medical("张明华", world.head_a.id_number, "6500.00"),  # registered, above 6,000
        medical("陈小芳", STRANGER, "12000", address="博尚镇勐准村5组"),  # nobody's, above 10,000
    ]
    outcome = run(session, tmp_path, "medical", rows)
    assert (outcome.rows, outcome.created, outcome.matched, outcome.candidates, outcome.alerts) == (2, 2, 1, 1, 1)
    alert = session.exec(select(Alert)).one()
    assert alert.rule == "signal_medical" and alert.person_id == world.head_a.id
    assert alert.household_id == world.household_a.id and alert.area_code == VILLAGE_A
    assert "6,500" in alert.reason or "6500" in alert.reason
    candidate = session.exec(select(Candidate)).one()
    assert (candidate.name, candidate.source, candidate.area_code) == ("陈小芳", "medical", VILLAGE_B)
    assert "个人自付" in candidate.description

    again = run(session, tmp_path, "medical", rows)
    assert again.again and (again.created, again.candidates, again.alerts, again.already) == (0, 0, 0, 2)
    assert count(session, Alert) == 1 and count(session, Candidate) == 1 and count(session, SignalImport) == 1


def test_the_same_rows_in_another_file_add_nothing(session, world, tmp_path):
    rows = [medical("张明华", world.head_a.id_number, "6500"), medical("陈小芳", STRANGER, "12000")]
    run(session, tmp_path, "medical", rows)
    later = run(session, tmp_path, "medical", [*rows, medical("张明华", world.head_a.id_number, "100")], "next.xlsx")
    assert not later.again and (later.created, later.already, later.alerts, later.candidates) == (1, 2, 0, 0)
    assert count(session, SignalImport) == 2 and count(session, Alert) == 1


def test_thresholds_leave_smaller_costs_alone(session, world, tmp_path):
    rows = [medical("张明华", world.head_a.id_number, "6000"), medical("陈小芳", STRANGER, "9999.99")]
    outcome = run(session, tmp_path, "medical", rows)
    assert (outcome.created, outcome.alerts, outcome.candidates, outcome.not_acted) == (2, 0, 0, 1)


def test_the_city_s_thresholds_are_the_ones_used(session, world, tmp_path):
    session.add(AlertRule(code="signal_medical", days=7, threshold=3000))
    session.add(AlertRule(code="signal_medical_unregistered", days=7, threshold=5000))
    session.commit()
    rows = [medical("张明华", world.head_a.id_number, "3500"), medical("陈小芳", STRANGER, "5500")]
    outcome = run(session, tmp_path, "medical", rows)
    assert (outcome.alerts, outcome.candidates) == (1, 1)


def test_switching_the_anyone_rule_off_makes_no_candidates(session, world, tmp_path):
    session.add(AlertRule(code="signal_medical_unregistered", days=7, enabled=False))
    session.commit()
    outcome = run(session, tmp_path, "medical", [medical("陈小芳", STRANGER, "50000")])
    assert (outcome.created, outcome.candidates) == (1, 0)


def test_a_closed_alert_is_not_raised_again_by_the_same_stay(session, world, tmp_path):
    from services.alerts import engine

    run(session, tmp_path, "medical", [medical("张明华", world.head_a.id_number, "6500")])
    alert = session.exec(select(Alert)).one()
    alert.state, alert.open_key = "closed", None
    session.commit()
    assert engine.run(session, ACTOR).raised["signal_medical"] == 0


def test_a_later_stay_after_a_closed_alert_raises_a_new_one(session, world, tmp_path):
    from datetime import timedelta

    from services.alerts import engine

    run(session, tmp_path, "medical", [medical("张明华", world.head_a.id_number, "6500")])
    alert = session.exec(select(Alert)).one()
    alert.state, alert.open_key = "closed", None
    alert.raised_at -= timedelta(hours=1)  # raised well before the next month's list is stored
    session.commit()
    later = [medical("张明华", world.head_a.id_number, "7000", admitted="2026-11-20", discharged="2026-11-25")]
    assert run(session, tmp_path, "medical", later, "next.csv").alerts == 1
    assert count(session, Alert, Alert.rule == "signal_medical", Alert.person_id == world.head_a.id) == 2
    assert engine.run(session, ACTOR).raised["signal_medical"] == 0


def test_a_person_of_another_county_is_left_to_that_county(session, world, tmp_path):
    other = session.exec(select(Person).where(Person.household_id == world.household_other.id)).one()
    outcome = run(session, tmp_path, "medical", [medical("段明", other.id_number, "20000")])
    assert (outcome.elsewhere, outcome.created, outcome.alerts, outcome.candidates) == (1, 0, 0, 0)


def test_a_candidate_s_village_township_or_county_comes_from_the_address(session, world, tmp_path):
    rows = [
        medical("甲", synthetic_id(4001, born="1975"), "12000", address="临翔区博尚镇碗窑村3组"),
        medical("乙", synthetic_id(4002, born="1975"), "12000", address="博尚镇某某组"),
        medical("丙", synthetic_id(4003, born="1975"), "12000", address="不知道"),
    ]
    run(session, tmp_path, "medical", rows)
    places = dict(session.exec(select(Candidate.name, Candidate.area_code)).all())
    assert places == {"甲": VILLAGE_A, "乙": TOWNSHIP, "丙": COUNTY}


def test_one_open_candidate_per_person_whatever_the_lists(session, world, tmp_path):
    run(session, tmp_path, "medical", [medical("陈小芳", STRANGER, "12000")])
    run(
        session,
        tmp_path,
        "medical",
        [medical("陈小芳", STRANGER, "15000", admitted="2026-11-20", discharged="")],
        "next.csv",
    )
    assert count(session, Candidate) == 1 and count(session, SignalRecord) == 2


def test_bad_rows_are_named_and_left_out(session, world, tmp_path):
    rows = [
        medical("张明华", world.head_a.id_number, "6500"),
        medical("错号", "530902197501010000", "7000"),
        medical("负数", STRANGER, "-5"),
        medical("将来", STRANGER, "7000", admitted="2099-01-01"),
        medical("倒了", STRANGER, "7000", admitted="2026-11-10", discharged="2026-11-01"),
        medical("太多", STRANGER, "99999999999"),
        medical("", STRANGER, "7000"),
    ]
    outcome = run(session, tmp_path, "medical", rows)
    assert outcome.created == 1 and outcome.alerts == 1
    reasons = {e["row"]: e["reason"] for e in outcome.errors}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9]  # the title and the header are rows 1 and 2
    assert "校验位" in reasons[4] and "负数" in reasons[5] and "不能晚于今天" in reasons[6]
    assert "出院日期早于入院日期" in reasons[7] and "万元" in reasons[8] and "姓名" in reasons[9]
    assert all(r.startswith(f"第 {n} 行") for n, r in reasons.items())


def test_a_file_without_the_kind_s_header_is_refused(session, world, tmp_path):
    path = write(tmp_path / "death.csv", "death", [["段明", STRANGER, "", "2026-11-01"]])
    with pytest.raises(Invalid, match="没有找到医保住院费用名单的表头"):
        importing.import_file(session, ACTOR, "medical", COUNTY, path, path.name)


def test_variant_headers_are_understood(session, world, tmp_path):
    header = ["序号", "参保人姓名", "公民身份号码", "现住址", "入院时间", "出院时间", "总费用", "个人负担", "医疗机构"]
    outcome = run(session, tmp_path, "medical", [medical("张明华", world.head_a.id_number, "６５００")], header=header)
    assert outcome.alerts == 1


def test_a_new_severe_disability_updates_the_grade_and_raises_an_alert(session, world, tmp_path):
    rows = [["张明华", world.head_a.id_number, "碗窑村", "肢体", "二级", "2026-10-01"],
            ["陈小芳", STRANGER, "勐准村", "视力", "一级", ""],
            ["李四", synthetic_id(4005, born="1975"), "勐准村", "听力", "四级", ""]]  # fmt: skip
    outcome = run(session, tmp_path, "disability", rows)
    assert (outcome.alerts, outcome.candidates, outcome.not_acted) == (1, 1, 1)
    session.refresh(world.head_a)
    assert world.head_a.disability_grade == 2
    assert session.exec(select(Alert.rule)).one() == "signal_disability"
    assert session.exec(select(Candidate.area_code)).one() == VILLAGE_B


def test_an_already_severe_grade_raises_nothing(session, world, tmp_path):
    world.head_a.disability_grade = 1
    session.add(world.head_a)
    session.commit()
    outcome = run(session, tmp_path, "disability", [["张明华", world.head_a.id_number, "", "肢体", "1级", ""]])
    assert outcome.matched == 1 and outcome.alerts == 0


def test_a_death_marks_the_person_stops_payments_and_exits_an_emptied_household(session, world, tmp_path):
    period = parse_period("2026-12")
    assert f"h{world.household_a.id}" in dues.due_for(session, "dibao", period, COUNTY)
    outcome = run(session, tmp_path, "death", [["张明华", world.head_a.id_number, "碗窑村", "2026-11-05"]])
    assert (outcome.deaths, outcome.exited, outcome.alerts, outcome.candidates) == (1, 1, 1, 0)
    session.refresh(world.head_a)
    session.refresh(world.household_a)
    assert world.head_a.died_on.isoformat() == "2026-11-05"
    assert world.household_a.status == "exited" and world.household_a.exit_reason == "户内人员全部死亡"
    assert session.exec(select(Alert.rule, Alert.grade)).one() == ("signal_death", "red")
    assert f"h{world.household_a.id}" not in dues.due_for(session, "dibao", period, COUNTY)
    assert count(session, AuditEvent, AuditEvent.action == "person.died") == 1


def test_a_death_in_a_household_with_others_alive_stops_only_that_person(session, world, tmp_path):
    spouse = Person(household_id=world.household_a.id, name="王秀英", relation="配偶", id_number=synthetic_id(4006))
    session.add(spouse)
    session.flush()
    session.add(PersonCategory(person_id=spouse.id, category="tekun_dispersed"))
    session.commit()
    period = parse_period("2026-12")
    assert f"p{spouse.id}" in dues.due_for(session, "tekun", period, COUNTY)
    run(session, tmp_path, "death", [["王秀英", spouse.id_number, "", "2026-11-05"]])
    session.refresh(world.household_a)
    assert world.household_a.status == "active"
    assert f"p{spouse.id}" not in dues.due_for(session, "tekun", period, COUNTY)
    assert f"p{spouse.id}" in dues.due_for(session, "tekun", parse_period("2026-11"), COUNTY)  # died in November


def test_a_payment_after_the_death_is_flagged_for_recovery(session, world, tmp_path):
    from services.payouts import reconcile
    from tests.payout_files import row
    from tests.payout_files import write_csv as write_result

    run(session, tmp_path, "death", [["张明华", world.head_a.id_number, "", "2026-11-05"]])
    person = [
        row("张明华", world.head_a.id_number, program="特困供养", period=month) for month in ("2026-11", "2026-12")
    ]
    result = write_result(tmp_path / "result.csv", person)
    outcome = reconcile.import_file(session, ACTOR, COUNTY, result, result.name)
    [flagged] = outcome.problems["after_exit"]
    assert "2026-11-05 已去世" in flagged["reason"] and "2026年12月" in flagged["reason"]  # November was still due


def test_an_unknown_death_makes_no_candidate(session, world, tmp_path):
    outcome = run(session, tmp_path, "death", [["陈小芳", STRANGER, "", "2026-11-05"]])
    assert (outcome.created, outcome.candidates, outcome.not_acted) == (1, 0, 1)


def test_unemployment_in_a_low_income_margin_household_raises_an_alert(session, world, tmp_path):
    marginal = add_household(session, VILLAGE_B, "0002", "周强", synthetic_id(4007), categories=("dibao_marginal",))
    session.commit()
    head = session.exec(select(Person).where(Person.household_id == marginal.id)).one()
    rows = [["周强", head.id_number, "", "2026-10-20"], ["张明华", world.head_a.id_number, "", "2026-10-20"]]
    outcome = run(session, tmp_path, "unemployment", rows)
    assert outcome.alerts == 1 and outcome.matched == 2
    assert session.exec(select(Alert.household_id)).one() == marginal.id


def test_the_import_is_audited_with_its_counts(session, world, tmp_path):
    run(session, tmp_path, "medical", [medical("张明华", world.head_a.id_number, "6500")])
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "signals.imported")).one()
    assert json.loads(event.detail)["alerts"] == 1


def test_import_signals_command_prints_json(app, session, world, tmp_path):
    rows = [
        medical("张明华", world.head_a.id_number, "6500"),
        medical("陈小芳", STRANGER, "12000"),
        medical("坏", "1", "1"),
    ]
    path = write(tmp_path / "m.xlsx", "medical", rows)
    args = ["import-signals", str(path), "--kind", "medical", "--area", COUNTY, "--json"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (printed["created"], printed["alerts"], printed["candidates"]) == (2, 1, 1)
    assert printed["errors"][0]["row"] == 5 and "18 位" in printed["errors"][0]["reason"]
    again = json.loads(app.test_cli_runner().invoke(args=args).output)
    assert again["again"] and again["created"] == 0 and again["alerts"] == 0
    assert session.exec(select(func.count()).select_from(Household).where(Household.status == "active")).one() == 3


def test_import_signals_command_refuses_a_township_code(app, tmp_path):
    path = write(tmp_path / "m.csv", "medical", [medical("陈小芳", STRANGER, "12000")])
    result = app.test_cli_runner().invoke(args=["import-signals", str(path), "--kind", "medical", "--area", TOWNSHIP])
    assert result.exit_code != 0 and "不是县（区）" in result.output


def test_another_county_s_import_sees_only_its_own_villages(session, world, tmp_path):
    run(
        session,
        tmp_path,
        "medical",
        [medical("陈小芳", STRANGER, "12000", address="博尚镇碗窑村")],
        county=OTHER_COUNTY,
    )
    assert session.exec(select(Candidate.area_code)).one() == OTHER_COUNTY


def test_excel_dates_and_numbers_are_read_as_such(session, world, tmp_path):
    from datetime import datetime

    row = medical("张明华", world.head_a.id_number, 6500.5, admitted=datetime(2026, 11, 2), discharged="2026年11月9日")
    outcome = run(session, tmp_path, "medical", [row], "dates.xlsx")
    assert outcome.errors == [] and outcome.alerts == 1
    record = session.exec(select(SignalRecord)).one()
    assert (record.event_on.isoformat(), record.end_on.isoformat(), record.self_paid_fen) == (
        "2026-11-02",
        "2026-11-09",
        650_050,
    )


def test_a_list_past_the_row_limit_is_refused_whole(session, world, tmp_path, monkeypatch):
    from services.signals import lists

    monkeypatch.setattr(lists, "MAX_DATA_ROWS", 2)
    rows = [medical(f"人{n}", synthetic_id(4100 + n, born="1975"), "100") for n in range(3)]
    path = write(tmp_path / "big.csv", "medical", rows)
    with pytest.raises(Invalid, match="名单超过 2 行"):
        importing.import_file(session, ACTOR, "medical", COUNTY, path, path.name)
    assert count(session, SignalImport) == 0


def test_the_other_rules_leave_a_person_who_died_alone(session, world):
    from datetime import date, timedelta

    from services.alerts import engine
    from services.clock import today_in_china

    born = today_in_china() - timedelta(days=18 * 365 - 20)  # 18 within the 60 days
    orphans = []
    for n in range(2):
        household = add_household(
            session, VILLAGE_B, f"00{n + 5}", f"孤儿{n}", synthetic_id(4200 + n, "2008"), ("orphan",)
        )
        head = session.exec(select(Person).where(Person.household_id == household.id)).one()
        head.birth_date = born
        orphans.append(head)
    orphans[1].died_on = date(2026, 11, 5)
    session.add_all(orphans)
    session.commit()
    result = engine.run(session, ACTOR)
    assert result.raised["orphan_turning_18"] == 1
    assert session.exec(select(Alert.person_id).where(Alert.rule == "orphan_turning_18")).one() == orphans[0].id
