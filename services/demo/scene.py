"""The demo at work: the campaign two thirds done, the demo villages' recent visits, relief in every state,
every township's reserve, and the county's report in progress.

seed_scene runs after seed_demo. The campaign's survey visits cover the households of the run (bulk rows,
like the households themselves); everything else is told once per database, in the demo township only,
from a bounded pool of its households and through the real services, so a 100,000-household seed takes
no longer for it than a 300-household one, and the history, reserves and audit trail all agree.
"""

import random
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from models import Area, AuditEvent, Campaign, Household, User
from services import audit
from services.audit import Actor
from services.campaigns import work_report
from services.campaigns.stats import statistics
from services.campaigns.work_report_draft import draft_basic_situation, window_text
from services.demo.discovery import DemoDiscovery, seed_discovery
from services.demo.fieldwork import seed_field_work
from services.demo.payouts import DemoPayouts, seed_payouts
from services.demo.relief import seed_applications, seed_funds
from services.demo.visits import china_today, seed_campaign_visits

STORY_EVENT = "demo.story_seeded"  # the story is told once per database: a second run only adds households
STORY_HOUSEHOLDS = 14  # per demo village: visited lately, and the households the relief applications are for
POOL = 60  # the story draws from a village's first families only, however many households it has
CAST = {  # who plays which part in the story (services/demo/seed.py makes the accounts)
    "assistant": "demo-assistant",
    "assistant2": "demo-assistant2",
    "township": "demo-township",
    "county": "demo-county",
    "city": "demo-city",
}
MEASURES = "\n".join(
    (
        "一是压实工作责任。区民政局成立排查工作专班，区、乡（镇）、村三级层层落实责任，"
        "经办员和协理员分片包户，逐户上门回访。",
        "二是做到应保尽保、应救尽救。对排查中发现的困难及时处理：符合条件的纳入低保或特困供养，"
        "急难情况由乡镇先行救助、事后补齐材料，金额超过乡镇审批额度的报区级审批。",
        "三是落实照料服务。对分散供养特困人员和留守儿童逐一核实三方委托照料服务协议，"
        "对有集中供养意愿的老人及时安排入住乡镇中心养老院。",
    )
)


@dataclass
class SceneResult:
    """What the demo scene made in this run."""

    campaign: Campaign | None
    surveyed: int = 0
    told: bool = False
    untold: str = ""  # why the story was not told in this run
    visits: int = 0
    photos: int = 0
    needs: int = 0
    funds: int = 0
    applications: int = 0
    states: dict[str, int] = field(default_factory=dict)
    report: bool = False
    payouts: DemoPayouts | None = None
    discovery: DemoDiscovery | None = None
    seconds: float = 0.0


def seed_scene(
    session: Session,
    actor: Actor,
    *,
    seed: int,
    campaign: Campaign | None,
    folder: Path,
    survey_since: int | None = None,
    today: date | None = None,
) -> SceneResult:
    """Survey two thirds of the households from id `survey_since` on (None: none), then tell the story once."""
    started = time.perf_counter()
    today = today or china_today()
    result = SceneResult(campaign)
    if campaign is not None and survey_since is not None:
        surveyed = seed_campaign_visits(
            session, actor, campaign, seed=seed, since_household_id=survey_since, today=today
        )
        result.surveyed = surveyed.survey_visits
    cast = _cast(session, actor)
    if cast is None:
        result.untold = "没有演示账号所在的区划，未生成走访、救助等演示场景"
    elif story_told(session):
        result.untold = "走访、救助等演示场景此前已生成，本次只增加了住户"
    else:
        _tell(session, actor, result, cast, random.Random(f"story:{seed}"), folder, today)
    result.seconds = time.perf_counter() - started
    return result


def story_told(session: Session) -> bool:
    """Tell whether an earlier run already told the demo story in this database."""
    return session.exec(select(AuditEvent.id).where(AuditEvent.action == STORY_EVENT)).first() is not None


def _cast(session: Session, actor: Actor) -> dict[str, Actor] | None:
    """Return the demo accounts as actors, or None when one is missing (a custom area tree without its place)."""
    users = {u.username: u for u in session.exec(select(User).where(User.username.in_(CAST.values())))}
    if len(users) < len(CAST):
        return None
    return {part: Actor(user=users[name], ip=actor.ip) for part, name in CAST.items()}


def _families(session: Session, rng: random.Random, village: str) -> list[Household]:
    """Draw the story's households from the village's first families."""
    pool = session.exec(
        select(Household)
        .where(Household.area_code == village, Household.status == "active", Household.kind == "family")
        .order_by(Household.id)
        .limit(POOL)
    ).all()
    return rng.sample(list(pool), min(STORY_HOUSEHOLDS, len(pool)))


def _tell(session, actor: Actor, result: SceneResult, cast: dict[str, Actor], rng, folder: Path, today) -> None:
    """Visit, settle needs, set the reserves, raise and decide the applications, draft the report; commit."""
    rounds = [(cast[part], _families(session, rng, cast[part].user.area_code)) for part in ("assistant", "assistant2")]
    rounds = [(assistant, households) for assistant, households in rounds if households]
    if not rounds:  # a later run with more households tells the story
        result.untold = "演示村还没有住户，未生成走访、救助等演示场景"
        return
    result.funds = seed_funds(session, rng, cast["township"].user.area_code, [cast["county"], cast["city"]])
    work = seed_field_work(session, rng, rounds, cast["township"], folder, today)
    # the households that asked for 临时救助 in a visit come first, so their applications follow from the need
    pairs = [(a, h) for n in range(STORY_HOUSEHOLDS) for a, households in rounds for h in households[n : n + 1]]
    pairs.sort(key=lambda pair: pair[1].id not in work.relief_needs)
    relief = seed_applications(session, rng, pairs, cast, work.relief_needs, folder)
    if result.campaign is not None:
        result.report = _draft_report(session, cast["county"], result.campaign)
    result.payouts = seed_payouts(session, cast["county"], cast["township"].user.area_code, rng, today)
    result.discovery = seed_discovery(session, rng, cast, today)  # last: the rules read all of the above
    result.told = True
    result.visits, result.photos, result.needs = work.visits, work.photos + relief.photos, work.needs
    result.applications, result.states = relief.applications, relief.states
    detail = {"visits": work.visits, "photos": result.photos, "needs": work.needs, "funds": result.funds}
    audit.record(session, actor, STORY_EVENT, result.campaign, **detail, applications=relief.applications)
    session.commit()


def _draft_report(session: Session, county: Actor, campaign: Campaign) -> bool:
    """Save the county's draft report: 对象基本情况 from the data, 解决措施 written; False when it has one already."""
    area = session.get(Area, county.user.area_code)
    if area is None or work_report.find(session, campaign, area) is not None:
        return False
    basic = draft_basic_situation(statistics(session, county.user, campaign, area))
    parts = {"basic_situation": basic, "measures": MEASURES, "difficulties": "", "suggestions": ""}
    work_report.save(session, county, campaign, area, parts, version=0)
    return True


def describe(result: SceneResult, households: int) -> list[str]:
    """Say in plain Chinese what the scene made: one line for the campaign, one for the story."""
    lines = []
    campaign = result.campaign
    if campaign is not None and households:
        days = window_text(campaign.start_date, campaign.end_date)
        done = f"本次生成的 {households} 户已排查回访 {result.surveyed} 户（{result.surveyed * 100 / households:.0f}%）"
        lines.append(f"「{campaign.name}」（{days}）进行中：{done}")
    if not result.told:
        return [*lines, result.untold] if result.untold else lines
    waiting = f"待乡镇审批 {result.states.get('submitted', 0)} 份、待县级审批 {result.states.get('forwarded', 0)} 份"
    story = (
        f"演示场景：近几周走访 {result.visits} 次（照片 {result.photos} 张、诉求 {result.needs} 条），"
        f"临时救助申请 {result.applications} 份（{waiting}），{result.funds} 个乡镇的备用金"
    )
    report = "，县（区）工作报告草稿" if result.report else ""
    lines.append(f"{story}{report}（用时 {result.seconds:.1f} 秒）")
    paid = result.payouts
    if paid and paid.rows:
        lines.append(
            f"上月低保一卡通发放结果 {paid.rows} 笔：发放失败 {paid.failed} 笔、应发未发 {paid.missing} 户，待乡镇整改"
        )
    found = result.discovery
    if found and (found.total or found.candidates):
        lines.append(
            f"主动发现：跑规则发出预警 {found.total} 条（有协理员的户已派到协理员首页），"
            f"其中 {found.checked} 条已入户核实、纳入低保；协理员上报疑似困难户 {found.candidates} 户，待乡镇核实"
        )
    return lines
