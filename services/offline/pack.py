"""The assistant's offline pack: their village's active households in a few set-based queries, and its ETag.

Every query selects named columns (never a Person row: its ID number must not even be read) and is bounded by
the one scoping rule. The due dates come from services/visits/schedule.py, the survey flag from the campaign
rule of services/campaigns/campaigns.py, both worked out for all households at once; the alert tasks are those
of 首页 (services/alerts/listing.task_clauses), so with no signal the phone lists what the page would.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import and_
from sqlmodel import Session, select

from models import Alert, Area, Card, Household, Need, Person, PersonCategory, User, Visit, utcnow
from services.alerts import listing as alert_listing
from services.alerts.checks import VISIT_ANSWERS
from services.alerts.rules import GRADE_LABELS, RULES
from services.api.offline_schemas import (
    OfflinePackOut,
    PackAlertOut,
    PackAssistantOut,
    PackDueOut,
    PackHouseholdOut,
    PackLabelsOut,
    PackMemberOut,
    PackNeedOut,
)
from services.campaigns.campaigns import active_campaign, window
from services.clock import aware, china_date, today_in_china
from services.registry.categories import CATEGORIES
from services.scope import where_in_scope
from services.visits import schedule
from services.visits.needs import UNRESOLVED
from services.visits.rules import KINDS, NEED_STATUSES, NEED_TYPES, RISKS

MAX_HOUSEHOLDS = 2000  # a big village has a few hundred; beyond this the phone gets the first ones, flagged
MAX_ALERTS = 500  # a first run of the rules over a village may raise many; the phone gets the reddest, flagged
ETAG_LENGTH = 32
CATEGORY_ORDER = {code: position for position, code in enumerate(CATEGORIES)}


def _in_pack(user: User):
    """Return the WHERE clause of the pack's households: active, in the user's scope."""
    return and_(where_in_scope(user, Household.area_code), Household.status == "active")


def build_pack(session: Session, user: User, now: datetime | None = None) -> OfflinePackOut:
    """Return the user's offline pack: the active households in scope (at most MAX_HOUSEHOLDS), without ID numbers."""
    now = now or utcnow()
    today = today_in_china(now)
    rows = list(
        session.exec(
            select(
                Household.id,
                Household.household_no,
                Household.area_code,
                Household.address,
                Household.phone,
                Household.kind,
                Household.status,
                Household.assistant_id,
                Household.last_visit_at,
                Household.last_risk,
            )
            .where(_in_pack(user))
            .order_by(Household.area_code, Household.household_no, Household.id)
            .limit(MAX_HOUSEHOLDS + 1)
        )
    )
    truncated = len(rows) > MAX_HOUSEHOLDS
    rows = rows[:MAX_HOUSEHOLDS]
    ids = {row.id for row in rows}
    members = _members(session, user, ids, today)
    categories = _household_categories(members)
    due = _due(session, user, rows, categories, now)
    surveyed = _surveyed(session, user, today)
    needs = _needs(session, user, ids)
    cards = _card_hashes(session, user, ids)
    assistants = _assistants(session, {row.assistant_id for row in rows if row.assistant_id})
    alerts, alerts_truncated = _alerts(session, user, ids)
    households = [
        PackHouseholdOut(
            id=row.id,
            no=row.household_no,
            village=row.area_code,
            address=row.address,
            phone=row.phone,
            kind=row.kind,
            status=row.status,
            assistant=assistants.get(row.assistant_id),
            categories=categories[row.id],
            members=members[row.id],
            last_visit_at=aware(row.last_visit_at) if row.last_visit_at else None,
            last_risk=row.last_risk,
            due=due[row.id],
            survey_due=surveyed is not None and row.id not in surveyed,
            needs=needs[row.id],
            card=cards.get(row.id),
        )
        for row in rows
    ]
    return OfflinePackOut(
        version=1,
        user_id=user.id,
        generated_at=now,
        truncated=truncated,
        villages=_villages(session, {row.area_code for row in rows} | {user.area_code}),
        labels=LABELS,
        households=households,
        alerts=alerts,
        alerts_truncated=alerts_truncated,
    )


LABELS = PackLabelsOut(
    categories=CATEGORIES,
    need_types=NEED_TYPES,
    need_statuses=NEED_STATUSES,
    risks=RISKS,
    kinds=KINDS,
    sections=schedule.SECTIONS,
    alert_rules={code: rule.label for code, rule in RULES.items()},
    alert_grades=GRADE_LABELS,
)


def age_on(birth_date: date | None, today: date) -> int | None:
    """Return the age in whole years on a day (China's date), None when the birth date is unknown."""
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _members(session: Session, user: User, ids: set[int], today: date) -> dict[int, list[PackMemberOut]]:
    """Return each household's members, head first, with their own categories (two queries)."""
    own_categories = defaultdict(list)
    category_query = (
        select(PersonCategory.person_id, PersonCategory.category)
        .join(Person, Person.id == PersonCategory.person_id)
        .join(Household, Household.id == Person.household_id)
        .where(_in_pack(user))
    )
    for person_id, category in session.exec(category_query):
        own_categories[person_id].append(category)
    query = (
        select(
            Person.id,
            Person.household_id,
            Person.name,
            Person.birth_date,
            Person.sex,
            Person.relation,
            Person.is_head,
            Person.phone,
        )
        .join(Household, Household.id == Person.household_id)
        .where(_in_pack(user))
        .order_by(Person.household_id, Person.is_head.desc(), Person.id)
    )
    members = defaultdict(list)
    for person_id, household_id, name, birth_date, sex, relation, is_head, phone in session.exec(query):
        if household_id not in ids:  # beyond MAX_HOUSEHOLDS
            continue
        members[household_id].append(
            PackMemberOut(
                id=person_id,
                name=name,
                age=age_on(birth_date, today),
                sex=sex,
                relation=relation,
                head=is_head,
                categories=sorted(own_categories[person_id], key=CATEGORY_ORDER.__getitem__),
                phone=phone,
            )
        )
    return members


def _household_categories(members: dict[int, list[PackMemberOut]]) -> dict[int, list[str]]:
    """Return each household's categories: its members', once each, in CATEGORIES order."""
    found = defaultdict(list)
    for household_id, people in members.items():
        codes = {code for person in people for code in person.categories}
        found[household_id] = sorted(codes, key=CATEGORY_ORDER.__getitem__)
    return found


def _due(session: Session, user: User, rows, categories: dict[int, list[str]], now: datetime) -> dict[int, PackDueOut]:
    """Return each household's next routine visit: the 首页 sections, and the date for those due later.

    The sections are schedule.due_visits' own lists; a household due after this week is in none of them, and
    gets its date by the same interval rule, so the phone can move it into 本周 as the days pass offline.
    """
    placed: dict[int, PackDueOut] = {}
    listed = schedule.due_visits(session, user, now)
    for section in schedule.SECTIONS:
        for item in listed.section(section):
            placed[item.household_id] = PackDueOut(date=item.due, section=section)
    days = schedule.frequencies(session)
    due = {}
    for row in rows:
        if row.id in placed:
            due[row.id] = placed[row.id]
            continue
        interval = schedule.interval_days(days, categories[row.id], row.last_risk)
        later = today_in_china(aware(row.last_visit_at) + timedelta(days=interval)) if row.last_visit_at else None
        due[row.id] = PackDueOut(date=later, section=None)
    return due


def _surveyed(session: Session, user: User, today: date) -> set[int] | None:
    """Return the households in scope that had their survey visit in today's campaign (None: no campaign runs).

    campaigns.visit_kind_for's rule, for all households in one query.
    """
    campaign = active_campaign(session, today)
    if campaign is None:
        return None
    start, end = window(campaign)
    query = (
        select(Visit.household_id)
        .distinct()
        .join(Household, Household.id == Visit.household_id)
        .where(_in_pack(user), Visit.kind == "survey", Visit.visited_at >= start, Visit.visited_at < end)
    )
    return set(session.exec(query))


def _needs(session: Session, user: User, ids: set[int]) -> dict[int, list[PackNeedOut]]:
    """Return each household's unresolved needs, oldest first."""
    query = (
        select(Need.id, Need.household_id, Need.type, Need.description, Need.status)
        .join(Household, Household.id == Need.household_id)
        .where(_in_pack(user), Need.status.in_(UNRESOLVED))
        .order_by(Need.id)
    )
    needs = defaultdict(list)
    for need_id, household_id, need_type, description, status in session.exec(query):
        if household_id in ids:
            needs[household_id].append(PackNeedOut(id=need_id, type=need_type, description=description, status=status))
    return needs


def _alerts(session: Session, user: User, ids: set[int]) -> tuple[list[PackAlertOut], bool]:
    """Return the assistant's alert tasks about the pack's households (red first, earliest due), and whether cut.

    Named columns only: the reason is the rule's Chinese sentence; nothing else of the alert leaves the server.
    """
    query = (
        select(Alert.id, Alert.rule, Alert.grade, Alert.reason, Alert.due_at, Alert.household_id, Alert.person_id)
        .join(Household, Household.id == Alert.household_id)
        .where(*alert_listing.task_clauses(user), _in_pack(user))
        .order_by(*alert_listing.TASK_ORDER)
        .limit(MAX_ALERTS + 1)
    )
    found = [
        PackAlertOut(
            id=alert_id,
            rule=rule,
            grade=grade,
            reason=reason,
            due=china_date(due_at),
            household_id=household_id,
            person_id=person_id,
            any_visit_closes=rule in VISIT_ANSWERS,
        )
        for alert_id, rule, grade, reason, due_at, household_id, person_id in session.exec(query)
        if household_id in ids  # beyond MAX_HOUSEHOLDS
    ]
    return found[:MAX_ALERTS], len(found) > MAX_ALERTS


def card_hash(token: str) -> str:
    """Return what the pack carries of a card: the SHA-256 of its token, which a scanned card can be matched with."""
    return hashlib.sha256(token.encode()).hexdigest()


def _card_hashes(session: Session, user: User, ids: set[int]) -> dict[int, str]:
    """Return the hash of each household's live card."""
    query = (
        select(Card.household_id, Card.token)
        .join(Household, Household.id == Card.household_id)
        .where(_in_pack(user), Card.revoked_at.is_(None))
    )
    return {household_id: card_hash(token) for household_id, token in session.exec(query) if household_id in ids}


def _assistants(session: Session, ids: set[int]) -> dict[int, PackAssistantOut]:
    """Return the households' assistants by id, in one query."""
    if not ids:
        return {}
    query = select(User.id, User.display_name, User.phone).where(User.id.in_(ids))
    return {user_id: PackAssistantOut(name=name, phone=phone) for user_id, name, phone in session.exec(query)}


def _villages(session: Session, codes: set[str]) -> dict[str, str]:
    """Return {code: name} of the villages the pack names (and the user's own)."""
    query = select(Area.code, Area.name).where(Area.code.in_(codes), Area.level == 4)
    return dict(session.exec(query.order_by(Area.code)).all())


# ---- the body and its ETag ---------------------------------------------------------------------------------


def canonical_json(data) -> bytes:
    """Return data as compact JSON with sorted keys: the same pack always gives the same bytes."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def encode(pack: OfflinePackOut) -> tuple[bytes, str]:
    """Return the pack's JSON body and its ETag (quoted; the first 32 hex of the SHA-256 of the body).

    generated_at is left out of the hash, or no two downloads would ever match: an unchanged pack keeps its ETag.
    """
    data = pack.model_dump(mode="json")
    generated_at = data.pop("generated_at")
    content = canonical_json(data)
    tag = hashlib.sha256(content).hexdigest()[:ETAG_LENGTH]
    # the time goes in front of the hashed text, not through a second dump of the whole pack: the same JSON object
    return b'{"generated_at":' + json.dumps(generated_at).encode() + b"," + content[1:], tag


def matching_tag(sent: Iterable[str | None], tag: str) -> str | None:
    """Return the entity tag of If-None-Match (unquoted, weak ones as plain) that names this pack, if any.

    Flask-Compress marks a strong tag with the encoding it served ("…:br", "…:gzip"); either form is this pack.
    "*" matches any pack.
    """
    for candidate in sent:
        if not candidate:  # Werkzeug reads If-None-Match: "" as a tag that is None
            continue
        if candidate == "*" or candidate.partition(":")[0] == tag:
            return tag if candidate == "*" else candidate
    return None
