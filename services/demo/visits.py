"""Deterministic demo visits and the demo revisit campaign, so coverage pages have something to count.

The same seed (on the same day, over the same households) gives the same visits. Rows go in with Core
bulk inserts and ids chosen here; each household's last visit is then set by one set-based UPDATE.
seed_visits adds a given number of visits (the benchmarks' knob); seed_campaign_visits gives the demo's
campaign its progress: about two thirds of the households surveyed so far, some townships ahead of others.
"""

import hashlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, text, update
from sqlmodel import Session, select

from models import Campaign, Household, User, Visit
from services import audit
from services.audit import Actor
from services.clock import CHINA
from services.demo.seed import DEMO_ACCOUNTS, advance_sequence, max_id
from services.errors import Invalid

CAMPAIGN_NAME = "2026年困难群众排查回访"
CAMPAIGN_DAYS = 10  # the demo campaign's window: the last ten days up to today
UNSURVEYED_SHARE = 0.13  # households left without a survey visit, so coverage is not 100 %
SURVEY_SHARE = 1 / 3  # of the visits, when there is a campaign
CAMPAIGN_PACES = (0.5, 0.85)  # seed_campaign_visits: each township has surveyed this share of its households
ROUTINE_DAYS = 365  # routine and ad-hoc visits spread over the last twelve months
BATCH_VISITS = 10_000
RISKS, RISK_CUM_WEIGHTS = ("normal", "attention", "urgent"), (88, 97, 100)  # mostly normal


@dataclass
class VisitSeedResult:
    """What one visit seeding run made."""

    visits: int
    survey_visits: int
    households_surveyed: int
    campaign_id: int | None
    seconds: float


@dataclass
class _Target:
    household_id: int
    area_code: str
    visitor_id: int


def china_today() -> date:
    """Return today's date in China."""
    return datetime.now(CHINA).date()


def ensure_campaign(session: Session, actor: Actor, today: date | None = None) -> Campaign:
    """Return the demo campaign, creating it (the last ten days up to today) or stretching it to today."""
    today = today or china_today()
    campaign = session.exec(select(Campaign).where(Campaign.name == CAMPAIGN_NAME).order_by(Campaign.id)).first()
    if campaign is None:
        campaign = Campaign(
            name=CAMPAIGN_NAME,
            start_date=today - timedelta(days=CAMPAIGN_DAYS - 1),
            end_date=today,
            statistics_due=today + timedelta(days=5),
            report_due=today + timedelta(days=15),
            created_by_id=_creator_id(session, actor),
        )
    elif campaign.end_date < today:
        campaign.end_date = today  # an old demo run: keep its visits counted and make it current again
    session.add(campaign)
    session.flush()
    return campaign


def _creator_id(session: Session, actor: Actor) -> int:
    if actor.user is not None:
        return actor.user.id
    return _fallback_visitor(session, preferred=("demo-city", "demo-admin"))


def _fallback_visitor(session: Session, preferred: tuple[str, ...] = ()) -> int:
    """Return the id of a demo account (the first of `preferred` present), for visits without an assistant."""
    names = [*preferred, *(a.username for a in DEMO_ACCOUNTS)]
    found = dict(session.exec(select(User.username, User.id).where(User.username.in_(names))).all())
    for name in names:
        if name in found:
            return found[name]
    raise Invalid("还没有演示账号，请先运行 seed-demo 生成演示数据")


def _targets(session: Session, since_household_id: int = 0) -> list[_Target]:
    """Return every active household (from this id on) with who visits it: its assistant, else a demo officer."""
    fallback = None
    rows = session.exec(
        select(Household.id, Household.area_code, Household.assistant_id)
        .where(Household.status == "active", Household.id >= since_household_id)
        .order_by(Household.id)
    ).all()
    targets = []
    for household_id, area_code, assistant_id in rows:
        if assistant_id is None and fallback is None:
            fallback = _fallback_visitor(session, preferred=("demo-township", "demo-county"))
        targets.append(_Target(household_id, area_code, assistant_id or fallback))
    return targets


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _survey_days(campaign: Campaign, today: date) -> list[date]:
    """Return the window's days up to yesterday, so no visit lies in the future (all of it if it has not begun)."""
    last = min(campaign.end_date, today - timedelta(days=1))
    return _days(campaign.start_date, last if last >= campaign.start_date else campaign.end_date)


def _plan(rng: random.Random, targets: list[_Target], visits: int, campaign: Campaign | None):
    """Yield (target, kind) for each visit: survey visits first, one per surveyed household before any repeats."""
    surveys = round(visits * SURVEY_SHARE) if campaign is not None else 0
    skipped = set(rng.sample(range(len(targets)), round(len(targets) * UNSURVEYED_SHARE)))
    surveyed = [t for i, t in enumerate(targets) if i not in skipped]
    rng.shuffle(surveyed)
    for n in range(surveys if surveyed else 0):
        yield (surveyed[n] if n < len(surveyed) else rng.choice(surveyed)), "survey"
    for _ in range(visits - (surveys if surveyed else 0)):
        yield rng.choice(targets), "routine" if rng.random() < 0.8 else "adhoc"


class _VisitWriter:
    """Collect visit rows with their ids and insert them a batch at a time."""

    def __init__(self, session: Session):
        self.session = session
        self.first_id = self.next_id = max_id(session, Visit) + 1
        self.rows: list[dict] = []
        self.total = 0
        self.created_at = datetime.now(CHINA)

    def add(self, rng: random.Random, target: _Target, kind: str, days: list[date]) -> None:
        day = rng.choice(days)
        at = datetime(day.year, day.month, day.day, 8, tzinfo=CHINA) + timedelta(seconds=rng.randrange(10 * 3600))
        visit_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        risk = rng.choices(RISKS, cum_weights=RISK_CUM_WEIGHTS)[0]
        self.rows.append(
            {
                "id": self.next_id,
                "uuid": visit_uuid,
                "content_hash": hashlib.sha256(visit_uuid.encode()).hexdigest(),
                "household_id": target.household_id,
                "area_code": target.area_code,
                "visitor_id": target.visitor_id,
                "kind": kind,
                "visited_at": at,
                "created_at": at,
                "risk": risk,
                "checklist": "{}",
                "self_checks": "{}",
                "changes": "[]",
            }
        )
        self.next_id += 1
        if len(self.rows) >= BATCH_VISITS:
            self.flush()

    def flush(self) -> None:
        """Insert the collected rows in one transaction."""
        if not self.rows:
            return
        advance_sequence(self.session, Visit, self.next_id - 1)
        self.session.exec(insert(Visit.__table__), params=self.rows)
        self.session.commit()
        self.total += len(self.rows)
        self.rows = []


def update_last_visits(session: Session, since_visit_id: int) -> None:
    """Set last_visit_at and last_risk of every household visited from this visit id on, in one UPDATE."""
    household, visit = Household.__table__, Visit.__table__
    latest = (
        select(visit.c.visited_at, visit.c.risk)
        .where(visit.c.household_id == household.c.id)
        .order_by(visit.c.visited_at.desc(), visit.c.id.desc())
        .limit(1)
    )
    touched = select(visit.c.household_id).where(visit.c.id >= since_visit_id)
    session.exec(
        update(household)
        .where(household.c.id.in_(touched))
        .values(
            last_visit_at=latest.with_only_columns(visit.c.visited_at).scalar_subquery(),
            last_risk=latest.with_only_columns(visit.c.risk).scalar_subquery(),
        )
    )


def _finish(session: Session, actor: Actor, writer: _VisitWriter, campaign: Campaign | None, **detail) -> None:
    """Insert what is left, set the visited households' last visit, audit the run once and commit."""
    writer.flush()
    update_last_visits(session, writer.first_id)
    audit.record(session, actor, "demo.visits_seeded", campaign, visits=writer.total, **detail)
    session.commit()
    if writer.total:
        # fresh planner statistics after a bulk load: without them SQLite may scan a subquery once per household
        session.exec(text("ANALYZE"))
        session.commit()


def seed_visits(
    session: Session, actor: Actor, *, visits: int, seed: int, campaign: Campaign | None, today: date | None = None
) -> VisitSeedResult:
    """Add `visits` synthetic visits to the active households; a third are survey visits in the campaign window."""
    if visits < 0:
        raise Invalid("走访次数不能为负数")
    started = time.perf_counter()
    today = today or china_today()
    targets = _targets(session)
    if visits and not targets:
        raise Invalid("还没有在册的户，请先用 --households 生成演示户")
    rng = random.Random(seed)  # never the global random: the same seed must give the same visits
    routine_days = _days(today - timedelta(days=ROUTINE_DAYS), today - timedelta(days=1))
    survey_days = _survey_days(campaign, today) if campaign is not None else []
    writer = _VisitWriter(session)
    surveys, surveyed = 0, set()
    for target, kind in _plan(rng, targets, visits, campaign):
        writer.add(rng, target, kind, survey_days if kind == "survey" else routine_days)
        if kind == "survey":
            surveys += 1
            surveyed.add(target.household_id)
    _finish(session, actor, writer, campaign, seed=seed, surveys=surveys)
    campaign_id = campaign.id if campaign is not None else None
    return VisitSeedResult(writer.total, surveys, len(surveyed), campaign_id, time.perf_counter() - started)


def seed_campaign_visits(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    seed: int,
    since_household_id: int = 0,
    today: date | None = None,
) -> VisitSeedResult:
    """Survey about two thirds of the active households (from this id on) in the campaign's days so far.

    Each township has its own pace, so the coverage page shows some ahead and some behind. The run's
    first household id is part of the random seed: a second run over new households makes new visits.
    """
    started = time.perf_counter()
    days = _survey_days(campaign, today or china_today())
    rng = random.Random(f"campaign:{seed}:{since_household_id}")  # never the global random
    paces: dict[str, float] = {}
    writer = _VisitWriter(session)
    surveyed = 0  # one survey visit per surveyed household
    for target in _targets(session, since_household_id):
        pace = paces.setdefault(target.area_code[:9], rng.uniform(*CAMPAIGN_PACES))
        if rng.random() < pace:
            writer.add(rng, target, "survey", days)
            surveyed += 1
    _finish(session, actor, writer, campaign, seed=seed, surveys=surveyed)
    return VisitSeedResult(surveyed, surveyed, surveyed, campaign.id, time.perf_counter() - started)
