"""Visits: record one exactly once, whatever the network does; read a household's timeline."""

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import CardScan, Household, Need, Photo, User, Visit, utcnow
from services import audit
from services.alerts import checks
from services.api.schemas import VisitIn, fingerprint
from services.audit import Actor
from services.care import from_visit
from services.clock import CHINA, aware
from services.errors import Conflict, Invalid, NotFound
from services.names import user_names
from services.payouts import disputes
from services.registry.households import get_household_for, is_active
from services.scope import is_in_scope, where_in_scope
from services.visits.rules import CHANGES

SCAN_COUNTS_FOR = timedelta(hours=3)  # a scan this recent is evidence the visit began at the door
FAR_FROM_HOME_M = 1000
CLOCK_SLACK = timedelta(minutes=10)  # a phone's clock may run a little fast
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=CHINA)  # before Doudi, before the assistants: a wrong clock
# a visit kept on a phone longer than this is refused: its facts can no longer be checked (issue 12)
OLDEST_ARRIVAL = timedelta(days=30)
GONE_FROM_SCOPE = "没有找到这户，或这户已不在您的辖区（可能已迁出），请联系乡镇经办员"
EXITED_SINCE = "走访时这户还在册（离线记录），之后已退出在册，请乡镇核实"


def record_visit(
    session: Session, actor: Actor, payload: VisitIn, *, received_at: datetime | None = None
) -> tuple[Visit, bool]:
    """Store a visit once; return (visit, created). A replay answers the stored visit; a clash raises.

    `received_at` is when the visit reached the server (now, unless history is written after the fact, as the
    demo and tests do): the visit time is checked against it, and it is stored as the visit's created_at.
    """
    digest = fingerprint(payload)
    existing = _by_uuid(session, str(payload.uuid))
    if existing is not None:
        return _replay(session, actor.user, existing, digest), False
    try:
        household = get_household_for(session, actor.user, payload.household_id)
    except NotFound:
        raise NotFound(GONE_FROM_SCOPE) from None
    received_at = received_at or utcnow()
    visited_at = _checked_time(payload.visited_at or received_at, received_at)
    exited_since = _check_on_register(household, visited_at)
    visit = _new_visit(session, actor, household, payload, digest, visited_at, received_at)
    try:
        with session.begin_nested():  # undoes only this insert
            session.add(visit)
    except IntegrityError:  # the same UUID arrived twice at once (double tap on two connections)
        return _replay(session, actor.user, _by_uuid(session, str(payload.uuid)), digest), False
    _raise_needs(session, actor, household, visit, payload, exited_since)
    disputes.note_family_says_unpaid(session, visit, household, actor)  # 保障金: the family says no, the bank yes
    _update_household(session, household, visit)
    checks.check_with_visit(session, actor, visit, household, payload)  # 主动发现: the alert it checks, and more
    from_visit.note_visit(session, actor, visit, household, payload)  # self-care, institution wish, carer's duties
    audit.record(session, actor, "visit.created", visit, household_id=household.id, risk=visit.risk)
    return visit, True


def _by_uuid(session: Session, uuid: str) -> Visit | None:
    return session.exec(select(Visit).where(Visit.uuid == uuid)).first()


def _replay(session: Session, user: User, visit: Visit, digest: str) -> Visit:
    household = session.get(Household, visit.household_id)
    if not is_in_scope(user, household.area_code):
        raise NotFound()  # a UUID from elsewhere tells nothing about the visit behind it
    if visit.content_hash != digest:
        raise Conflict("这次走访已经提交过，内容与已保存的不同", code="visit_conflict")
    return visit


def _checked_time(visited_at: datetime, received_at: datetime) -> datetime:
    """Refuse a visit time the phone's clock got wrong, or a visit kept offline too long to be checked now."""
    if visited_at > received_at + CLOCK_SLACK:
        raise Invalid("走访时间不能晚于现在，请检查手机时间", code="visit_refused")
    if visited_at < EARLIEST_VISIT:
        raise Invalid("走访时间不能早于 2000 年 1 月 1 日，请检查手机时间", code="visit_refused")
    if visited_at < received_at - OLDEST_ARRIVAL:
        raise Invalid("走访时间早于 30 天前，请核对手机时间后联系乡镇经办员", code="visit_refused")
    return visited_at


def _check_on_register(household: Household, visited_at: datetime) -> bool:
    """Refuse a visit to an exited household, unless it was made before the exit; tell whether it was."""
    if is_active(household):
        return False
    if household.exited_at is not None and visited_at < aware(household.exited_at):
        return True  # recorded offline while the household was still on the register: it lands, flagged
    raise Invalid("这户已退出在册，不能再登记走访", code="visit_refused")


def _new_visit(
    session: Session,
    actor: Actor,
    household: Household,
    payload: VisitIn,
    digest: str,
    visited_at: datetime,
    received_at: datetime,
) -> Visit:
    location = payload.location
    return Visit(
        uuid=str(payload.uuid),
        content_hash=digest,
        household_id=household.id,
        area_code=household.area_code,
        visitor_id=actor.user.id,
        kind=payload.kind,
        visited_at=visited_at,
        created_at=received_at,
        lat=location.lat if location else None,
        lon=location.lon if location else None,
        accuracy_m=location.accuracy if location else None,
        scan_id=_recent_scan(session, actor.user, household, payload.scan_id, visited_at),
        risk=payload.risk,
        checklist=json.dumps(payload.model_dump(mode="json")["checklist"], ensure_ascii=False),
        self_checks=json.dumps(payload.self_checks, ensure_ascii=False),
        changes=json.dumps(payload.changes),
        notes=(payload.notes or "").strip() or None,
    )


def _recent_scan(session: Session, user: User, household: Household, scan_id: int | None, at) -> int | None:
    """Keep the scan id only if this user scanned this household's card shortly before."""
    if scan_id is None:
        return None
    scan = session.get(CardScan, scan_id)
    if scan is None or scan.household_id != household.id or scan.user_id != user.id:
        return None
    return scan.id if abs(at - scan.at) <= SCAN_COUNTS_FOR else None


def _raise_needs(
    session: Session, actor: Actor, household: Household, visit: Visit, payload: VisitIn, exited_since: bool
) -> None:
    """Add the needs typed in the visit, a 复核 need for each change since the last visit, and one for an exit since."""
    needs = [(need.type, need.description.strip()) for need in payload.needs]
    needs += [("review", f"走访发现：{CHANGES[change]}，请复核保障资格") for change in payload.changes]
    if exited_since:
        needs.append(("review", EXITED_SINCE))
    for need_type, description in needs:
        session.add(
            Need(
                household_id=household.id,
                visit_id=visit.id,
                area_code=household.area_code,
                type=need_type,
                description=description,
                created_by_id=actor.user.id,
            )
        )


def _update_household(session: Session, household: Household, visit: Visit) -> None:
    if household.last_visit_at is None or visit.visited_at >= household.last_visit_at:
        household.last_visit_at = visit.visited_at
        household.last_risk = visit.risk
        session.add(household)


def get_visit_for(session: Session, user: User, visit_id: int) -> Visit:
    """Return a visit whose household is in the user's scope; otherwise 404."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound()
    get_household_for(session, user, visit.household_id)
    return visit


def get_visit_by_uuid_for(session: Session, user: User, uuid: str) -> Visit:
    """Return a visit by its UUID if its household is in the user's scope; otherwise 404."""
    visit = _by_uuid(session, uuid)
    if visit is None:
        raise NotFound()
    get_household_for(session, user, visit.household_id)
    return visit


@dataclass
class TimelineEntry:
    """A visit with what the household page shows of it."""

    visit: Visit
    visitor: str
    photos: list[Photo] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    distance_m: float | None = None

    @property
    def from_scan(self) -> bool:
        return self.visit.scan_id is not None

    @property
    def far_from_home(self) -> bool:
        return self.distance_m is not None and self.distance_m > FAR_FROM_HOME_M


def timeline(session: Session, household: Household, limit: int = 50) -> list[TimelineEntry]:
    """Return the household's visits, newest first, with visitors, photos, needs and GPS evidence."""
    query = select(Visit).where(Visit.household_id == household.id).order_by(Visit.visited_at.desc()).limit(limit)
    visits = list(session.exec(query))
    entries = timeline_for_visits(session, visits)
    home = usual_location(visits)
    for entry in entries:
        if home and entry.visit.lat is not None:
            entry.distance_m = distance_m(home, (entry.visit.lat, entry.visit.lon))
    return entries


def timeline_for_visits(session: Session, visits: list[Visit]) -> list[TimelineEntry]:
    """Return the visits with their visitors, photos and needs, fetched in three queries."""
    if not visits:
        return []
    ids = [v.id for v in visits]
    visitor_ids = {v.visitor_id for v in visits}
    names = user_names(session, visitor_ids)
    entries = {v.id: TimelineEntry(v, names.get(v.visitor_id, "")) for v in visits}
    for photo in session.exec(select(Photo).where(Photo.visit_id.in_(ids)).order_by(Photo.id)):
        entries[photo.visit_id].photos.append(photo)
    for need in session.exec(select(Need).where(Need.visit_id.in_(ids)).order_by(Need.id)):
        entries[need.visit_id].needs.append(need)
    return [entries[i] for i in ids]


def looks_like_uuid(text: str) -> bool:
    """Tell whether text is a UUID in its usual 36-character form."""
    try:
        return str(UUID(text)) == text.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def usual_location(visits: list[Visit]) -> tuple[float, float] | None:
    """Return the median GPS position of the household's visits: where it usually is."""
    points = [(v.lat, v.lon) for v in visits if v.lat is not None and v.lon is not None]
    if len(points) < 2:
        return None
    lats, lons = sorted(p[0] for p in points), sorted(p[1] for p in points)
    return lats[len(lats) // 2], lons[len(lons) // 2]


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def recent_visits(user: User):
    """Return a select() of visits to households in the user's scope, newest first."""
    query = select(Visit).join(Household, Household.id == Visit.household_id)
    return query.where(where_in_scope(user, Household.area_code)).order_by(Visit.visited_at.desc())
