"""主动发现 rules: a world with one case planted for each rule and a near miss beside it raises exactly those alerts."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from models import Alert, AlertRule, AuditEvent, Correction, Household, Person, SignalImport, SignalRecord, Visit
from services.alerts import engine
from services.alerts.rules import RULES
from services.alerts.signal_rules import UNREGISTERED_MEDICAL
from services.audit import Actor
from services.clock import today_in_china
from tests.care_helpers import add_agreement, plant_care
from tests.conftest import OTHER_VILLAGE, VILLAGE_A, VILLAGE_B, add_household, add_need
from tests.payouts_helpers import add_import, head_of, month, pay

NOW = datetime.now(UTC)
TODAY = today_in_china(NOW)
ROBOT = Actor(user=None, ip="test")


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def years_before(day: date, years: int, plus_days: int = 0) -> date:
    day = day + timedelta(days=plus_days)
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class Planter:
    """Adds households, visits and 整改 items to the world; remembers what each rule must find."""

    def __init__(self, session, world):
        self.session, self.world, self.expected, self.number = session, world, set(), 100

    def household(self, categories=("dibao",), area=VILLAGE_A, members=1, **extra) -> Household:
        self.number += 1
        household = add_household(self.session, area, f"{self.number:04d}", f"户主{self.number}", None, categories)
        for name, value in extra.items():
            setattr(household, name, value)
        for n in range(members - 1):
            self.session.add(Person(household_id=household.id, name=f"家人{self.number}-{n}", relation="子女"))
        self.session.add(household)
        self.session.flush()
        return household

    def visit(self, household: Household, when: datetime, risk: str = "normal", self_checks=None) -> None:
        self.session.add(
            Visit(
                uuid=str(uuid.uuid4()),
                content_hash="0" * 64,
                household_id=household.id,
                area_code=household.area_code,
                visitor_id=self.world.assistant_a.id,
                kind="routine",
                visited_at=when,
                risk=risk,
                self_checks=json.dumps(self_checks or {}),
            )
        )
        if household.last_visit_at is None or household.last_visit_at.replace(tzinfo=UTC) < when:
            household.last_visit_at, household.last_risk = when, risk
            self.session.add(household)
        self.session.flush()

    def correction(self, household: Household, kind: str, *, created=0, deadline=5, status="open") -> None:
        head = head_of(self.session, household)
        self.session.add(
            Correction(
                key=f"{kind}:dibao:{month()}:h{household.id}",
                kind=kind,
                program_code="dibao",
                period=month(),
                area_code=household.area_code,
                household_id=household.id,
                person_id=head.id,
                reason="测试",
                deadline=TODAY + timedelta(days=deadline),
                status=status,
                created_at=days_ago(created),
            )
        )

    def person(self, household: Household, **values) -> Person:
        head = head_of(self.session, household)
        for name, value in values.items():
            setattr(head, name, value)
        self.session.add(head)
        return head

    def signal(self, kind: str, household: Household, **values) -> Person:
        """Add a department list's record of the household's head (services/signals)."""
        if not hasattr(self, "signals"):
            self.signals = SignalImport(kind=kind, area_code="530902000000", file_name="名单.xlsx", sha256="0" * 64)
            self.session.add(self.signals)
            self.session.flush()
        head = head_of(self.session, household)
        key = f"{kind}:{head.id}:{len(self.expected)}:{values}"
        record = SignalRecord(key=key, kind=kind, import_id=self.signals.id, row_no=3, name=head.name,
                              id_number=f"{head.id:018d}", person_id=head.id, event_on=TODAY, **values)  # fmt: skip
        self.session.add(record)
        return head

    def expect(self, rule: str, household: Household | None = None, person: Person | None = None) -> None:
        self.expected.add((rule, f"p{person.id}" if person else f"h{household.id}"))


def plant(session, world) -> Planter:
    """One case for each rule, and a near miss beside each."""
    p = Planter(session, world)
    # the world's own households: 杨梅国 (分散供养特困, alone) has no care agreement; the others are new and fine
    p.expect("care_agreement_missing", person=head_of(session, world.household_b))

    urgent = p.household()
    p.visit(urgent, days_ago(3), "urgent")
    p.expect("urgent_no_follow_up", urgent)
    followed = p.household()  # near miss: visited again the next day
    p.visit(followed, days_ago(3), "urgent")
    p.visit(followed, days_ago(2))
    fresh = p.household()  # near miss: urgent yesterday, still inside the 2 days
    p.visit(fresh, days_ago(1), "urgent")

    relief = p.household()
    add_need(session, relief, "temporary_relief", by=world.assistant_a, created_at=days_ago(8))
    p.expect("need_open_too_long", relief)
    other_need = p.household()  # near miss: an ordinary need 20 days old, a resolved one 40 days old
    add_need(session, other_need, "medical", by=world.assistant_a, created_at=days_ago(20))
    add_need(session, other_need, "housing", by=world.assistant_a, status="resolved", created_at=days_ago(40))

    lonely = p.household(("lonely_elderly",))
    p.visit(lonely, days_ago(40))
    p.expect("must_visit_overdue", lonely)
    visited = p.household(("lonely_elderly",))  # near miss: visited 20 days ago (monthly)
    p.visit(visited, days_ago(20))
    together = p.household(("tekun_dispersed",), members=2)  # near miss: not alone
    p.visit(together, days_ago(40))
    add_agreement(session, together, head_of(session, together), by=world.assistant_a, signed_on=TODAY,
                  valid_until=TODAY + timedelta(days=365))  # fmt: skip

    alone = p.household()
    p.visit(alone, days_ago(100))
    p.expect("alone_no_contact_90", alone)
    pair = p.household(members=2)  # near miss: two people
    p.visit(pair, days_ago(100))

    failed = p.household()
    p.correction(failed, "failed", created=16, deadline=5)
    p.expect("failed_not_reissued", failed, head_of(session, failed))
    failed_recently = p.household()  # near miss: found 10 days ago
    p.correction(failed_recently, "failed", created=10, deadline=5)

    after_exit = p.household()
    p.correction(after_exit, "after_exit")
    p.expect("paid_after_exit", person=head_of(session, after_exit))
    after_exit_closed = p.household()  # near miss: closed
    p.correction(after_exit_closed, "after_exit", status="closed")

    overdue = p.household()
    p.correction(overdue, "missing", deadline=-1)
    p.expect("correction_overdue", person=head_of(session, overdue))
    in_time = p.household()  # near miss: due tomorrow
    p.correction(in_time, "missing", deadline=1)

    disputed = p.household()
    p.correction(disputed, "disputed")
    p.expect("family_says_unpaid", person=head_of(session, disputed))
    disputed_closed = p.household()  # near miss: closed
    p.correction(disputed_closed, "disputed", status="closed")

    orphan = p.household(("orphan",))
    p.expect("orphan_turning_18", person=p.person(orphan, birth_date=years_before(TODAY, 18, 30)))
    orphan_later = p.household(("de_facto_orphan",))  # near miss: 18 in 90 days
    p.person(orphan_later, birth_date=years_before(TODAY, 18, 90))

    batch = add_import(session)  # 临翔区 imported this year's 高龄补贴 and this month's 护理补贴
    old = p.household()
    p.expect("elderly_without_allowance", person=p.person(old, birth_date=years_before(TODAY, 82)))
    old_paid = p.household()  # near misses: paid; 79; in a county that imported nothing
    p.person(old_paid, birth_date=years_before(TODAY, 85))
    pay(session, batch, "elderly", month(), old_paid)
    young = p.household()
    p.person(young, birth_date=years_before(TODAY, 79))
    old_elsewhere = p.household(area=OTHER_VILLAGE)
    p.person(old_elsewhere, birth_date=years_before(TODAY, 90))

    severe = p.household(area=VILLAGE_B)
    p.expect("severe_disability_without_care", person=p.person(severe, disability_grade=1))
    severe_paid = p.household()  # near misses: paid; grade 3; in a county that imported nothing
    p.person(severe_paid, disability_grade=2)
    pay(session, batch, "disability_care", month(), severe_paid)
    p.person(p.household(), disability_grade=3)
    p.person(p.household(area=OTHER_VILLAGE), disability_grade=1)

    plant_care(p, session, world, TODAY, days_ago)  # tests/care_helpers.py

    # department lists (services/alerts/signal_rules.py); signal_medical_unregistered raises nothing by design
    p.expect("signal_medical", person=p.signal("medical", p.household(), self_paid_fen=650_000))
    p.signal("medical", p.household(), self_paid_fen=600_000)  # near miss: not above 6,000 元
    p.expect("signal_disability", person=p.signal("disability", p.household(), grade=2, previous_grade=None))
    p.signal("disability", p.household(), grade=1, previous_grade=1)  # near misses: severe before; grade 3
    p.signal("disability", p.household(), grade=3, previous_grade=None)
    p.expect("signal_death", person=p.signal("death", p.household()))
    p.expect("signal_unemployment", person=p.signal("unemployment", p.household(("dibao_marginal",))))
    p.signal("unemployment", p.household())  # near miss: not a 低保边缘 household
    session.commit()
    return p


def raised(session) -> set[tuple[str, str]]:
    return {(a.rule, a.open_key.split(":")[1]) for a in session.exec(select(Alert).where(Alert.state == "open"))}


def test_each_planted_case_raises_exactly_its_alert(session, world):
    planted = plant(session, world)
    result = engine.run(session, ROBOT, now=NOW)
    session.commit()
    assert raised(session) == planted.expected
    assert {rule for rule, _subject in planted.expected} == set(RULES) - {UNREGISTERED_MEDICAL}
    assert sum(result.raised.values()) == len(planted.expected)


def test_an_alert_carries_its_grade_village_reason_and_due_date(session, world):
    plant(session, world)
    engine.run(session, ROBOT, now=NOW)
    session.commit()
    alert = session.exec(select(Alert).where(Alert.rule == "alone_no_contact_90")).one()
    assert (alert.grade, alert.area_code, alert.level, alert.person_id) == ("red", VILLAGE_A, "village", None)
    assert "独居" in alert.reason and "90" in alert.reason
    assert alert.due_at.replace(tzinfo=UTC) == NOW + timedelta(days=RULES["alone_no_contact_90"].days)


def test_someone_whose_only_housemate_died_lives_alone_from_then_on(session, world):
    p = Planter(session, world)
    widowed = p.household(members=2)
    p.visit(widowed, NOW - timedelta(days=100))
    spouse = session.exec(select(Person).where(Person.household_id == widowed.id, Person.is_head.is_(False))).one()
    spouse.died_on = TODAY - timedelta(days=200)  # a death list said so (services/signals)
    session.add(spouse)
    pair = p.household(members=2)  # both alive: not alone
    p.visit(pair, NOW - timedelta(days=100))
    session.commit()
    engine.run(session, ROBOT, now=NOW, only={"alone_no_contact_90"})
    raised = set(session.exec(select(Alert.household_id).where(Alert.rule == "alone_no_contact_90")))
    assert widowed.id in raised and pair.id not in raised


def test_running_again_raises_nothing_new_and_audits_each_run_once(session, world):
    planted = plant(session, world)
    engine.run(session, ROBOT, now=NOW)
    session.commit()
    again = engine.run(session, ROBOT, now=NOW)
    session.commit()
    assert sum(again.raised.values()) == 0
    assert sum(again.already_open.values()) == len(planted.expected)
    assert len(session.exec(select(Alert)).all()) == len(planted.expected)
    runs = session.exec(select(AuditEvent).where(AuditEvent.action == "alerts.run")).all()
    assert len(runs) == 2
    assert json.loads(runs[1].detail)["already_open"]["paid_after_exit"] == 1


def test_a_rule_the_city_switched_off_raises_nothing(session, world):
    plant(session, world)
    session.add(AlertRule(code="paid_after_exit", enabled=False, days=7))
    session.commit()
    result = engine.run(session, ROBOT, now=NOW)
    session.commit()
    assert "paid_after_exit" not in result.raised
    assert not any(rule == "paid_after_exit" for rule, _subject in raised(session))


def test_the_citys_threshold_replaces_the_default(session, world):
    planted = plant(session, world)
    session.add(AlertRule(code="alone_no_contact_90", days=3, threshold=35))
    session.commit()
    engine.run(session, ROBOT, now=NOW, only={"alone_no_contact_90"})
    session.commit()
    alone, lonely = (h for rule, h in sorted(planted.expected) if rule in ("must_visit_overdue", "alone_no_contact_90"))
    assert raised(session) == {("alone_no_contact_90", alone), ("alone_no_contact_90", lonely)}


def test_a_longer_threshold_keeps_a_case_quiet(session, world):
    plant(session, world)
    session.add(AlertRule(code="alone_no_contact_90", days=3, threshold=120))
    session.commit()
    result = engine.run(session, ROBOT, now=NOW, only={"alone_no_contact_90"})
    assert result.raised == {"alone_no_contact_90": 0}


def test_an_alert_past_its_due_date_moves_to_the_township_then_the_county(session, world):
    plant(session, world)
    engine.run(session, ROBOT, now=NOW, only={"paid_after_exit"})
    session.commit()
    days = RULES["paid_after_exit"].days
    later = engine.run(session, ROBOT, now=NOW + timedelta(days=days, hours=1), only={"paid_after_exit"})
    session.commit()
    alert = session.exec(select(Alert).where(Alert.rule == "paid_after_exit")).one()
    assert (later.escalated_total, later.raised["paid_after_exit"], alert.level) == (1, 0, "township")
    engine.run(session, ROBOT, now=NOW + timedelta(days=2 * days - 1), only={"paid_after_exit"})
    session.commit()
    session.refresh(alert)
    assert alert.level == "township"
    last = engine.run(session, ROBOT, now=NOW + timedelta(days=2 * days, hours=1), only={"paid_after_exit"})
    session.commit()
    session.refresh(alert)
    assert (last.escalated_total, alert.level) == (1, "county")


def test_a_checked_alert_does_not_move_up(session, world):
    plant(session, world)
    engine.run(session, ROBOT, now=NOW, only={"paid_after_exit"})
    alert = session.exec(select(Alert).where(Alert.rule == "paid_after_exit")).one()
    alert.state = "checked"
    session.add(alert)
    session.commit()
    result = engine.run(session, ROBOT, now=NOW + timedelta(days=30), only={"paid_after_exit"})
    assert result.escalated_total == 0


def test_a_closed_alert_lets_the_rule_raise_a_new_one(session, world):
    plant(session, world)
    engine.run(session, ROBOT, now=NOW, only={"paid_after_exit"})
    alert = session.exec(select(Alert).where(Alert.rule == "paid_after_exit")).one()
    alert.state, alert.open_key, alert.closed_at = "closed", None, NOW
    session.add(alert)
    session.commit()
    assert engine.run(session, ROBOT, now=NOW, only={"paid_after_exit"}).raised == {"paid_after_exit": 1}


@pytest.mark.parametrize("as_json", [True, False])
def test_the_run_alerts_command_prints_the_counts(app, session, world, as_json):
    plant(session, world)
    output = app.test_cli_runner().invoke(args=["run-alerts", *(["--json"] if as_json else [])])
    assert output.exit_code == 0, output.output
    if as_json:
        counts = json.loads(output.output)
        assert counts["raised"]["paid_after_exit"] == 1 and counts["escalated"] == 0
    else:
        assert "退出后仍发放（paid_after_exit）：新预警 1" in output.output


def test_every_category_the_rules_name_exists():
    from services.alerts import base as rules
    from services.registry.categories import CATEGORIES

    named = {*rules.MUST_VISIT_CATEGORIES, rules.ALONE_MUST_VISIT, *rules.ORPHAN_CATEGORIES, *rules.CARE_CATEGORIES}
    assert named <= set(CATEGORIES)
