"""GET /api/v1/me, /households and /households/<id>: who is signed in, and the households they may see."""

from flask import request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from blueprints import page_number
from blueprints.api.core import route
from db import get_session
from services.api import openapi
from services.api.household_schemas import (
    HouseholdItemOut,
    HouseholdListOut,
    HouseholdOut,
    MemberOut,
    MeOut,
    VisitSummaryOut,
)
from services.cards import cards
from services.permissions import ROLES
from services.registry import areas, households
from services.registry.categories import CATEGORIES, label
from services.registry.idnumber import mask
from services.scope import scope_prefix
from services.visits import visits

PAGE_SIZE = 50
RECENT_VISITS = 5


@route(openapi.ME)
def me():
    """Tell the client who is signed in and what they may see."""
    area = areas.get_area(get_session(), current_user.area_code)
    return MeOut(
        id=current_user.id,
        username=current_user.username,
        display_name=current_user.display_name,
        role=current_user.role,
        role_label=ROLES.get(current_user.role, current_user.role),
        area_code=current_user.area_code,
        area_name=area.name if area else current_user.area_code,
        scope_prefix=scope_prefix(current_user),
        csrf_token=generate_csrf(),  # the outbox reads it before sending: a page opened offline may hold none
    ).model_dump(mode="json")


@route(openapi.HOUSEHOLDS)
def household_list():
    """List one page of active households in scope, searched by ?q=."""
    page = page_number()
    query = households.search_households(current_user, q=request.args.get("q", ""))
    rows, has_more = households.list_rows(get_session(), query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    items = [_household_item(row) for row in rows]
    return HouseholdListOut(items=items, page=page, has_more=has_more).model_dump(mode="json")


def _household_item(row: households.HouseholdRow) -> HouseholdItemOut:
    household = row.household
    return HouseholdItemOut(
        id=household.id,
        household_no=household.household_no,
        area_code=household.area_code,
        village=row.village,
        head_name=row.head_name,
        members=row.members,
        categories=row.categories,
        category_labels=[label(c) for c in row.categories],
        status=household.status,
        last_visit_at=household.last_visit_at,
        last_risk=household.last_risk,
    )


@route(openapi.HOUSEHOLD)
def household_detail(household_id: int):
    """Show one household in scope: members with masked ID numbers, card, recent visits."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    members = households.members_with_categories(session, household)
    area = areas.get_area(session, household.area_code)
    card = cards.live_card(session, household.id)
    categories = sorted({c for _, cs in members for c in cs}, key=list(CATEGORIES).index)
    return HouseholdOut(
        **household.model_dump(
            include={"id", "household_no", "area_code", "address", "phone", "kind", "status", "exit_reason"}
            | {"care_agreement_signed", "guardian", "wants_institutional_care", "last_visit_at", "last_risk"}
        ),
        village=area.name if area else household.area_code,
        categories=categories,
        category_labels=[label(c) for c in categories],
        card_delivered=card is not None and card.delivered_at is not None,
        members=[_member(person, person_categories) for person, person_categories in members],
        visits=[_visit_summary(entry) for entry in visits.timeline(session, household, limit=RECENT_VISITS)],
    ).model_dump(mode="json")


def _member(person, categories: list[str]) -> MemberOut:
    return MemberOut(
        id=person.id,
        name=person.name,
        relation=person.relation,
        is_head=person.is_head,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number_masked=mask(person.id_number),  # the full number never leaves through the API
        phone=person.phone,
        disability_grade=person.disability_grade,
        categories=categories,
    )


def _visit_summary(entry: visits.TimelineEntry) -> VisitSummaryOut:
    visit = entry.visit
    return VisitSummaryOut(
        id=visit.id,
        uuid=visit.uuid,
        kind=visit.kind,
        visited_at=visit.visited_at,
        risk=visit.risk,
        visitor=entry.visitor,
        photos=len(entry.photos),
        needs=len(entry.needs),
        from_scan=entry.from_scan,
    )
