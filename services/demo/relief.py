"""The demo's temporary relief: every township's reserve and limit, and applications in every state.

Applications are raised with create_application and moved with the state machine's decide(), by the demo
accounts whose job each step is, so their history, the reserve's balance and the audit trail agree.
"""

import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from models import Area, Household, Person
from services.api.relief_schemas import ReliefIn
from services.audit import Actor
from services.demo.pictures import demo_photo
from services.relief.apply import create_application
from services.relief.evidence import add_relief_photo
from services.relief.funds import DEFAULT_LIMIT_FEN, DEFAULT_PAPERWORK_DAYS, FundIn, change_fund
from services.relief.machine import Decision, decide
from services.scope import is_in_scope

DEMO_TOWNSHIP_RESERVE_FEN = 5_000_000  # 50,000 元 for 博尚镇: plenty for every approval the demo shows
RESERVES_FEN = (2_000_000, 3_000_000, 4_000_000, 6_000_000, 8_000_000)  # 20,000–80,000 元 elsewhere


@dataclass(frozen=True)
class Story:
    """One application: who raises it, what for, how much, and the steps it has taken since."""

    writer: str  # "assistant" (the household's assistant) or "township"
    reason: str
    amount_yuan: str
    circumstances: str
    steps: tuple[tuple[str, str, dict], ...] = ()  # (who, action, decision details)
    urgent: bool = False
    payment_form: str = "card"
    submit: bool = True
    evidence: tuple[str, ...] = ()  # captions of the evidence photos


TOWNSHIP_OK = ("township", "approve", {})
PAID_BY_CARD = ("township", "pay", {"payment_method": "card", "payment_reference": "一卡通批量发放"})
FORWARD = ("township", "forward", {"comment": "经入户核实情况属实，金额超过乡镇审批额度，报请县级审批"})
# Several wait for the township (the first, urgent one within its limit), two for the county, and one
# of each other state, including an urgent grant whose paperwork is still to come.
STORIES = (
    Story("assistant", "traffic", "800", "户主骑摩托车途中发生交通事故，腿部骨折住院，家中无其他劳动力",
          urgent=True, evidence=("证件",)),
    Story("assistant", "sudden_illness", "600", "妻子突发脑梗住院，新农合报销后自付部分仍难以承担"),
    Story("assistant", "education", "500", "两个孩子同时上学，本学期生活费和住宿费凑不齐"),
    Story("township", "cannot_work", "1500", "夫妻二人长期在外务工，因工厂停产返乡，连续三个月无收入"),
    Story("assistant", "medical", "900", "老人长期服用慢性病药物，本月医药费超过家庭收入",
          steps=(("township", "return", {"comment": "请补充医院诊断证明和费用清单"}),)),
    Story("assistant", "sudden_illness", "3000", "户主确诊重病，需转昆明治疗，前期检查已花费两万余元",
          steps=(FORWARD,), evidence=("药品",)),
    Story("assistant", "fire", "5000", "夜间厨房电线起火，两间住房及屋内粮食衣物被烧毁", urgent=True,
          steps=(FORWARD,)),
    Story("assistant", "other_expense", "700", "房屋漏雨严重，维修材料费用无力承担", steps=(TOWNSHIP_OK,)),
    Story("assistant", "medical", "2500", "孩子白血病化疗，医保报销后自付费用仍然很高", steps=(
        FORWARD,
        ("county", "approve", {"amount_yuan": "2000", "comment": "按县级临时救助标准核定"}),
        ("county", "pay", {"payment_method": "card", "payment_reference": "县级一卡通发放"}),
    )),
    Story("assistant", "returned_unemployed", "800", "儿子返乡后暂未找到工作，家庭收入减少",
          steps=(("township", "reject", {"comment": "家庭人均收入高于当地临时救助标准，已转介就业帮扶"}),)),
    Story("assistant", "accident", "600", "上山砍柴摔伤，卧床一个月不能劳动", payment_form="cash",
          steps=(TOWNSHIP_OK, ("township", "pay", {"payment_method": "cash", "payment_reference": "现金领取"}))),
    Story("assistant", "fire", "1000", "家中失火，被褥、衣物和口粮全部烧毁，一家四口暂住亲戚家", urgent=True,
          payment_form="kind", steps=(TOWNSHIP_OK,), evidence=("住房", "证件")),
    Story("assistant", "traffic", "800", "老人被车撞伤住院，肇事方暂未赔付", urgent=True,
          steps=(TOWNSHIP_OK, ("township", "complete_paperwork", {}), PAID_BY_CARD)),
    Story("assistant", "other_emergency", "400", "家中耕牛病死，春耕无力", submit=False),
)  # fmt: skip


@dataclass
class ReliefWork:
    """What the demo's relief made."""

    funds: int = 0
    applications: int = 0
    photos: int = 0
    states: dict[str, int] = field(default_factory=dict)


def seed_funds(session: Session, rng: random.Random, demo_township: str, setters: list[Actor]) -> int:
    """Set this year's reserve and limit of every township with households, each by the first setter in scope.

    The townships come from one scan of the households' codes: a few hundred areas at most, whatever N is.
    """
    prefixes = session.exec(select(func.substr(Household.area_code, 1, 9)).distinct()).all()
    codes = sorted(f"{prefix}000" for prefix in prefixes)
    made = 0
    for area in session.exec(select(Area).where(Area.level == 3, Area.code.in_(codes)).order_by(Area.code)):
        reserve = DEMO_TOWNSHIP_RESERVE_FEN if area.code == demo_township else rng.choice(RESERVES_FEN)
        days = DEFAULT_PAPERWORK_DAYS if rng.random() < 0.8 else 7
        setter = next((a for a in setters if is_in_scope(a.user, area.code)), None)
        if setter is not None:
            change_fund(session, setter, area, FundIn(DEFAULT_LIMIT_FEN, reserve, days))
            made += 1
    return made


def seed_applications(
    session: Session,
    rng: random.Random,
    households: list[tuple[Actor, Household]],
    officers: dict[str, Actor],
    relief_needs: dict[int, int],
    folder: Path,
) -> ReliefWork:
    """Raise the stories' applications on these households (with their assistants) and take their steps."""
    done = ReliefWork()
    if not households:
        return done
    for position, story in enumerate(STORIES):
        assistant, household = households[position % len(households)]
        writer = officers["township"] if story.writer == "township" else assistant
        application = _raise(session, rng, writer, household, story, relief_needs.get(household.id))
        for caption in story.evidence:
            data, photo_uuid = demo_photo(rng, caption), str(uuid.UUID(int=rng.getrandbits(128), version=4))
            add_relief_photo(session, writer, application, uuid=photo_uuid, caption=caption, data=data, folder=folder)
            done.photos += 1
        for who, action, details in story.steps:
            decide(session, officers[who], application, Decision(action, application.version, **details))
        done.applications += 1
        done.states[application.state] = done.states.get(application.state, 0) + 1
    return done


def _raise(session: Session, rng: random.Random, writer: Actor, household: Household, story: Story, need_id):
    head = session.exec(
        select(Person.id).where(Person.household_id == household.id).order_by(Person.is_head.desc(), Person.id)
    ).first()
    payload = ReliefIn(
        uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        household_id=household.id,
        person_id=head,
        reason=story.reason,
        circumstances=story.circumstances,
        amount_yuan=story.amount_yuan,
        payment_form=story.payment_form,
        urgent=story.urgent,
        need_id=need_id,
        submit=story.submit,
    )
    application, _created = create_application(session, writer, payload)
    return application
