"""The relief state machine at service level: who may move an application from which state, the township's limit and
reserve, required reasons, the urgent path, payment, the history and audit of every step, and amounts refused in
plain Chinese with nothing stored."""

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlmodel import Session, func, select

from models import AuditEvent, ReliefApplication, ReliefEvent, TownshipFund, utcnow
from services.api.relief_schemas import ReliefIn
from services.audit import Actor
from services.errors import DoudiError, Invalid, NotAllowed, Stale
from services.money import yuan_to_fen
from services.relief.apply import create_application
from services.relief.machine import Decision, allowed_actions, decide
from services.relief.rules import ACTIONS
from tests.conftest import TOWNSHIP

STATES = ("draft", "submitted", "returned", "forwarded", "approved", "rejected", "paid")
USERS = ("assistant_a", "assistant_b", "township", "county", "city", "admin", "other_county")
ALLOWED = {
    ("draft", "assistant_a"): {"submit"},
    ("draft", "township"): {"submit"},
    ("returned", "assistant_a"): {"submit"},
    ("returned", "township"): {"submit"},
    ("submitted", "township"): {"approve", "reject", "return", "forward"},
    ("forwarded", "county"): {"approve", "reject", "return"},
    ("approved", "township"): {"pay"},
    ("approved", "county"): {"pay"},
}
MOVES_TO = {"submit": "submitted", "approve": "approved", "reject": "rejected", "return": "returned"}
MOVES_TO |= {"forward": "forwarded", "pay": "paid"}
BAD_AMOUNTS = [
    ("0", "金额必须大于 0"),
    ("-1", "金额必须大于 0"),
    ("1000000.01", "金额不能超过 100 万元"),
    ("abc", "金额格式不对"),
    ("1e3", "金额格式不对"),
    ("1.234", "金额最多保留两位小数"),
    ("", "金额格式不对"),
]
FULL_DETAILS = {"comment": "情况已核实", "payment_method": "cash", "payment_reference": "XJ-001"}  # valid for all


# ---- arranging -----------------------------------------------------------------------------------


def give_fund(session, balance_yuan="5000", limit_yuan="1000", paperwork_days=5, township=TOWNSHIP) -> TownshipFund:
    """Give the township a reserve with this balance and an approval limit."""
    balance = yuan_to_fen(balance_yuan)
    fund = TownshipFund(
        area_code=township,
        year=utcnow().year,
        reserve_fen=balance,
        balance_fen=balance,
        approval_limit_fen=yuan_to_fen(limit_yuan),
        paperwork_days=paperwork_days,
    )
    session.add(fund)
    session.commit()
    return fund


def relief_payload(world, household=None, person_id=None, **changes) -> dict:
    """Return an application as the client sends it: a fresh UUID, a fire, 600 元 in cash (household A's head)."""
    payload = {
        "uuid": str(uuid4()),
        "household_id": (household or world.household_a).id,
        "person_id": person_id or world.head_a.id,
        "reason": "fire",
        "circumstances": "厨房失火，被褥衣物烧毁",
        "amount_yuan": "600",
        "payment_form": "cash",
        "urgent": False,
    }
    payload.update(changes)
    return payload


def raise_application(session, world, user=None, **changes) -> ReliefApplication:
    """Raise (and submit) an application through the service, as assistant A unless told otherwise."""
    payload = ReliefIn(**relief_payload(world, **changes))
    application, created = create_application(session, Actor(user or world.assistant_a), payload)
    assert created
    session.commit()
    return application


def act(session, user, application, action: str, **details) -> ReliefApplication:
    """Make one decision on the version last seen and commit it; roll back and re-raise a refusal, as views do."""
    try:
        moved = decide(session, Actor(user), application, Decision(action, application.version, **details))
    except DoudiError:
        session.rollback()
        raise
    session.commit()
    return moved


def in_state(session, world, state: str, **changes) -> ReliefApplication:
    """Return an application put straight into a state (the arrangement, not a transition under test)."""
    application = raise_application(session, world, submit=False, **changes)
    application.state = state
    if state in ("approved", "paid"):
        application.amount_approved_fen = application.amount_requested_fen
    session.add(application)
    session.commit()
    return application


def balance_yuan(session, township=TOWNSHIP) -> float:
    """Return the township's reserve balance in 元, read from the database."""
    fen = session.exec(select(TownshipFund.balance_fen).where(TownshipFund.area_code == township)).one()
    return fen / 100


def events_of(session, application) -> list[tuple]:
    query = select(ReliefEvent).where(ReliefEvent.application_id == application.id).order_by(ReliefEvent.id)
    return [(e.action, e.from_state, e.to_state) for e in session.exec(query)]


def audits_of(session, application) -> list[str]:
    query = (
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "reliefapplication", AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.id)
    )
    return list(session.exec(query))


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def values(obj, *names) -> tuple:
    return tuple(getattr(obj, name) for name in names)


def naive(moment):
    """Compare times whichever way the database hands them back (SQLite drops the zone)."""
    return moment.replace(tzinfo=None)


@pytest.fixture
def fund(session):
    return give_fund(session)


# ---- who may do what, from which state -------------------------------------------------------------


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("state", STATES)
def test_each_user_may_make_exactly_the_transitions_of_their_role_and_state(session, world, fund, state, who):
    application = in_state(session, world, state)
    user = getattr(world, who)
    expected = ALLOWED.get((state, who), set())
    assert set(allowed_actions(session, user, application)) == expected
    for action in ACTIONS:
        if action in expected:
            moved = decide(session, Actor(user), application, Decision(action, 1, **FULL_DETAILS))
            assert (moved.state, moved.version) == (MOVES_TO[action], 2)
        else:
            with pytest.raises(NotAllowed):
                decide(session, Actor(user), application, Decision(action, 1, **FULL_DETAILS))
        session.rollback()  # each action is tried on the same untouched application
        session.refresh(application)
        assert (application.state, application.version) == (state, 1)
    assert balance_yuan(session) == 5000 and events_of(session, application) == []


@pytest.mark.parametrize("who", ["assistant_b", "other_county"])
def test_someone_outside_the_scope_is_told_it_is_not_theirs(session, world, fund, who):
    application = raise_application(session, world)
    with pytest.raises(NotAllowed, match="不在您的辖区"):
        act(session, getattr(world, who), application, "approve")
    assert events_of(session, application) == [("submit", "draft", "submitted")]


def test_unknown_action_is_refused(session, world, fund):
    application = raise_application(session, world)
    with pytest.raises(Invalid, match="不认识的操作"):
        act(session, world.township, application, "delete")


def test_only_assistants_and_township_officers_raise_applications(session, world, fund):
    for user in (world.county, world.city, world.admin):
        with pytest.raises(NotAllowed, match="只有村协理员和乡镇经办员"):
            create_application(session, Actor(user), ReliefIn(**relief_payload(world)))
        session.rollback()
    assert count(session, ReliefApplication) == 0
    assert raise_application(session, world, user=world.township).state == "submitted"


def test_a_stale_version_is_refused_with_the_state_it_has_now(session, world, fund):
    application = raise_application(session, world)
    seen = application.version
    act(session, world.township, application, "approve")
    with pytest.raises(Stale, match="已被处理，现在是“已批准，待发放”"):
        decide(session, Actor(world.county), application, Decision("pay", seen, payment_method="cash"))
    session.rollback()
    assert [e[0] for e in events_of(session, application)] == ["submit", "approve"]


def test_a_stale_approval_leaves_the_reserve_alone(session, world, fund):
    application = raise_application(session, world)
    with Session(session.get_bind()) as other:  # another officer moves it after this one loaded it
        other.get(ReliefApplication, application.id).version = 7
        other.commit()
    with pytest.raises(Stale, match="已被处理"):
        act(session, world.township, application, "approve")
    assert balance_yuan(session) == 5000
    session.refresh(application)
    assert (application.state, application.amount_approved_fen) == ("submitted", None)


# ---- the township's limit and reserve --------------------------------------------------------------


def test_township_approves_within_its_limit_and_draws_the_reserve(session, world, fund):
    application = act(session, world.township, raise_application(session, world), "approve")
    assert values(application, "state", "amount_approved_fen", "decided_level") == ("approved", 60000, "township")
    assert application.decided_at is not None and application.paperwork_due_at is None  # not urgent
    assert balance_yuan(session) == 4400


def test_township_may_approve_exactly_its_limit(session, world, fund):
    application = raise_application(session, world, amount_yuan="1000.00")
    assert act(session, world.township, application, "approve").state == "approved"
    assert balance_yuan(session) == 4000


def test_one_fen_above_the_limit_must_go_to_the_county(session, world, fund):
    application = raise_application(session, world, amount_yuan="1000.01")
    assert "approve" not in allowed_actions(session, world.township, application)
    with pytest.raises(NotAllowed, match="金额超过乡镇审批额度，请报县级审批"):
        act(session, world.township, application, "approve")
    with pytest.raises(NotAllowed, match="金额超过乡镇审批额度"):
        act(session, world.township, application, "approve", amount_yuan="800", comment="按标准核减")
    session.refresh(application)
    assert (application.state, application.version, balance_yuan(session)) == ("submitted", 2, 5000)


def test_approval_the_balance_cannot_cover_is_refused_naming_the_balance_and_changes_nothing(session, world):
    give_fund(session, balance_yuan="500")
    application = raise_application(session, world)
    with pytest.raises(Invalid, match=r"乡镇备用金余额不足：还剩 500 元"):
        act(session, world.township, application, "approve")
    session.refresh(application)
    assert (application.state, application.version, application.amount_approved_fen) == ("submitted", 2, None)
    assert balance_yuan(session) == 500
    assert events_of(session, application) == [("submit", "draft", "submitted")]
    assert "relief.approve" not in audits_of(session, application)


def test_a_township_without_a_reserve_approves_within_its_limit_and_nothing_is_drawn(session, world):
    application = raise_application(session, world)  # no fund row at all: the default limit, no reserve
    assert "approve" in allowed_actions(session, world.township, application)
    approved = act(session, world.township, application, "approve")
    assert (approved.state, approved.amount_approved_fen, approved.decided_level) == ("approved", 60000, "township")
    assert session.get(TownshipFund, TOWNSHIP) is None


def test_a_reserve_of_zero_means_none_was_set(session, world):
    fund = give_fund(session)
    fund.reserve_fen = fund.balance_fen = 0  # the county's form says "没有就填 0"
    session.add(fund)
    session.commit()
    application = raise_application(session, world)
    assert act(session, world.township, application, "approve").state == "approved"
    assert balance_yuan(session) == 0


def test_a_used_up_reserve_is_said_before_the_dialog_and_the_approve_button_is_not_offered(session, world):
    fund = give_fund(session, balance_yuan="5000")
    fund.balance_fen = 0  # all of this year's 5,000 元 approved already
    session.add(fund)
    session.commit()
    application = raise_application(session, world)
    assert allowed_actions(session, world.township, application) == ["reject", "return", "forward"]
    with pytest.raises(NotAllowed, match="乡镇备用金已用完，请联系县（区）民政局追加备用金"):
        act(session, world.township, application, "approve")


def test_the_balance_named_is_the_one_now_not_the_one_first_seen(session, world, fund):
    first, second = raise_application(session, world, amount_yuan="800"), raise_application(session, world)
    fund.balance_fen = 100000
    session.add(fund)
    session.commit()
    assert "approve" in allowed_actions(session, world.township, first)  # this officer has loaded the fund
    with Session(session.get_bind()) as other:  # meanwhile another officer approves 600 元
        officer = other.get(type(world.township), world.township.id)
        act(other, officer, other.get(ReliefApplication, second.id), "approve")
    with pytest.raises(Invalid, match=r"还剩 400 元"):
        act(session, world.township, first, "approve")
    assert balance_yuan(session) == 400


def test_lowering_the_amount_needs_a_reason_and_draws_only_the_lowered_amount(session, world, fund):
    application = raise_application(session, world)
    with pytest.raises(Invalid, match="降低金额时请写明理由"):
        act(session, world.township, application, "approve", amount_yuan="400")
    with pytest.raises(Invalid, match="降低金额时请写明理由"):
        act(session, world.township, application, "approve", amount_yuan="400", comment="   ")
    assert balance_yuan(session) == 5000
    application = act(session, world.township, application, "approve", amount_yuan="400", comment="已有部分捐助")
    assert application.amount_approved_fen == 40000 and application.amount_requested_fen == 60000
    assert balance_yuan(session) == 4600
    event = session.exec(select(ReliefEvent).where(ReliefEvent.action == "approve")).one()
    assert (event.amount_fen, event.comment) == (40000, "已有部分捐助")


def test_approving_more_than_was_requested_is_refused(session, world, fund):
    application = raise_application(session, world)
    with pytest.raises(Invalid, match="批准金额不能高于申请金额"):
        act(session, world.township, application, "approve", amount_yuan="600.01", comment="多给一点")
    assert balance_yuan(session) == 5000


def test_approval_without_an_amount_approves_what_was_requested(session, world, fund):
    application = act(session, world.township, raise_application(session, world), "approve", amount_yuan="")
    assert application.amount_approved_fen == 60000


@pytest.mark.parametrize(("action", "message"), [("reject", "理由"), ("return", "补充什么"), ("forward", "乡镇意见")])
def test_reject_return_and_forward_need_a_comment(session, world, fund, action, message):
    application = raise_application(session, world, amount_yuan="3000")
    for comment in (None, "", "  "):
        with pytest.raises(Invalid, match=message):
            act(session, world.township, application, action, comment=comment)
    session.refresh(application)
    assert (application.state, application.version) == ("submitted", 2)
    moved = act(session, world.township, application, action, comment="请补充医院诊断证明")
    assert moved.state == MOVES_TO[action]
    assert session.exec(select(ReliefEvent.comment).where(ReliefEvent.action == action)).one() == "请补充医院诊断证明"


def test_county_approval_of_a_forwarded_application_does_not_touch_the_township_reserve(session, world, fund):
    application = raise_application(session, world, amount_yuan="3000")
    assert "approve" not in allowed_actions(session, world.county, application)  # not before the township forwards
    act(session, world.township, application, "forward", comment="家庭困难属实，建议批准")
    application = act(session, world.county, application, "approve")
    assert values(application, "state", "decided_level", "amount_approved_fen") == ("approved", "county", 300000)
    assert balance_yuan(session) == 5000


def test_county_may_reject_or_return_what_the_township_forwarded(session, world, fund):
    rejected = raise_application(session, world, amount_yuan="3000")
    act(session, world.township, rejected, "forward", comment="建议批准")
    assert act(session, world.county, rejected, "reject", comment="已享受医疗救助").decided_level == "county"
    returned = raise_application(session, world, amount_yuan="3000")
    act(session, world.township, returned, "forward", comment="建议批准")
    act(session, world.county, returned, "return", comment="请补充费用清单")
    assert act(session, world.assistant_a, returned, "submit").state == "submitted"


# ---- the urgent path and payment -------------------------------------------------------------------


def test_urgent_township_approval_sets_the_paperwork_deadline_and_completing_it_clears_it(session, world):
    give_fund(session, paperwork_days=3)
    application = raise_application(session, world, urgent=True)
    before = utcnow()
    application = act(session, world.township, application, "approve")
    due = naive(application.paperwork_due_at)
    assert naive(before + timedelta(days=3)) <= due <= naive(utcnow() + timedelta(days=3))
    assert "complete_paperwork" in allowed_actions(session, world.township, application)
    assert "complete_paperwork" in allowed_actions(session, world.county, application)
    assert "complete_paperwork" not in allowed_actions(session, world.assistant_a, application)
    application = act(session, world.township, application, "complete_paperwork")
    assert application.paperwork_done_at is not None and application.state == "approved"
    assert "complete_paperwork" not in allowed_actions(session, world.township, application)
    with pytest.raises(NotAllowed, match="没有待补的材料"):
        act(session, world.township, application, "complete_paperwork")


def test_urgent_application_approved_by_the_county_has_no_paperwork_deadline(session, world, fund):
    application = raise_application(session, world, amount_yuan="3000", urgent=True)
    act(session, world.township, application, "forward", comment="急需，建议批准")
    assert act(session, world.county, application, "approve").paperwork_due_at is None


def test_pay_records_who_when_how_and_the_reference(session, world, fund):
    application = act(session, world.township, raise_application(session, world), "approve")
    with pytest.raises(Invalid, match="请选择发放方式"):
        act(session, world.township, application, "pay")
    with pytest.raises(Invalid, match="请选择发放方式"):
        act(session, world.township, application, "pay", payment_method="bitcoin")
    before = utcnow()
    application = act(session, world.township, application, "pay", payment_method="kind", payment_reference=" 大米2袋 ")
    paid = values(application, "state", "paid_by_id", "payment_method", "payment_reference")
    assert paid == ("paid", world.township.id, "kind", "大米2袋")
    assert naive(before) <= naive(application.paid_at) <= naive(utcnow())
    event = session.exec(select(ReliefEvent).where(ReliefEvent.action == "pay")).one()
    assert (event.user_id, event.amount_fen) == (world.township.id, 60000)
    assert allowed_actions(session, world.township, application) == []


# ---- every step recorded -------------------------------------------------------------------------


def test_every_transition_writes_a_history_event_and_an_audit_row(session, world, fund):
    application = raise_application(session, world, amount_yuan="3000")
    act(session, world.township, application, "return", comment="请补充诊断证明")
    act(session, world.assistant_a, application, "submit")
    act(session, world.township, application, "forward", comment="建议批准")
    act(session, world.county, application, "approve", amount_yuan="2500", comment="按标准核定")
    act(session, world.township, application, "pay", payment_method="card", payment_reference="YKT-9")
    assert events_of(session, application) == [
        ("submit", "draft", "submitted"),
        ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"),
        ("forward", "submitted", "forwarded"),
        ("approve", "forwarded", "approved"),
        ("pay", "approved", "paid"),
    ]
    users = session.exec(select(ReliefEvent.user_id).order_by(ReliefEvent.id)).all()
    assistant, township, county = world.assistant_a.id, world.township.id, world.county.id
    assert users == [assistant, township, assistant, township, county, township]
    amounts = session.exec(select(ReliefEvent.amount_fen).order_by(ReliefEvent.id)).all()
    assert amounts == [300000, None, 300000, 300000, 250000, 250000]
    steps = ("created", "submit", "return", "submit", "forward", "approve", "pay")
    assert audits_of(session, application) == [f"relief.{step}" for step in steps]


def test_the_urgent_path_is_recorded_too(session, world, fund):
    application = raise_application(session, world, urgent=True)
    act(session, world.township, application, "approve")
    act(session, world.township, application, "complete_paperwork")
    act(session, world.township, application, "pay", payment_method="cash")
    assert events_of(session, application)[1:] == [
        ("approve", "submitted", "approved"),
        ("complete_paperwork", "approved", "approved"),
        ("pay", "approved", "paid"),
    ]
    assert audits_of(session, application)[-3:] == ["relief.approve", "relief.complete_paperwork", "relief.pay"]


# ---- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_bad_amounts_are_refused_in_chinese(amount, message):
    with pytest.raises(Invalid, match=message):
        yuan_to_fen(amount)


@pytest.mark.parametrize(("amount", "message"), [a for a in BAD_AMOUNTS if a[0]])  # "" never passes the schema
def test_application_with_a_bad_amount_is_refused_and_nothing_is_stored(session, world, fund, amount, message):
    with pytest.raises(Invalid, match=message):
        create_application(session, Actor(world.assistant_a), ReliefIn(**relief_payload(world, amount_yuan=amount)))
    session.rollback()
    assert count(session, ReliefApplication) == 0 and count(session, ReliefEvent) == 0
    assert count(session, AuditEvent) == 0


@pytest.mark.parametrize(("amount", "message"), [a for a in BAD_AMOUNTS if a[0]])  # "" approves what was asked
def test_approval_with_a_bad_amount_is_refused_and_changes_nothing(session, world, fund, amount, message):
    application = raise_application(session, world)
    with pytest.raises(Invalid, match=message):
        act(session, world.township, application, "approve", amount_yuan=amount, comment="核减")
    session.refresh(application)
    assert (application.state, application.version, application.amount_approved_fen) == ("submitted", 2, None)
    assert balance_yuan(session) == 5000 and len(events_of(session, application)) == 1


@pytest.mark.parametrize(("amount", "fen"), [("600", 60000), ("600.5", 60050), ("1,000.00", 100000), ("0.01", 1)])
def test_good_amounts_are_stored_in_fen(amount, fen):
    assert yuan_to_fen(amount) == fen


def test_a_comment_or_a_payment_reference_too_long_is_refused_not_cut(session, world, fund):
    application = raise_application(session, world)
    with pytest.raises(Invalid, match="意见最多 500 个字，现在有 501 个字"):
        act(session, world.township, application, "reject", comment="理" * 501)
    approved = act(session, world.township, application, "approve")
    with pytest.raises(Invalid, match="凭证号最多 64 个字符"):
        act(session, world.township, approved, "pay", payment_method="cash", payment_reference="X" * 65)
    session.refresh(application)
    assert (application.state, application.payment_reference) == ("approved", None)
