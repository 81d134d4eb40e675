"""The household registry: list and search, detail, create, edit, exit, members, full ID view."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required

from blueprints import actor, page_number, render_page_or_partial
from db import get_session
from extensions import limiter, user_key
from models import utcnow
from services.alerts import listing as alert_listing
from services.cards import cards
from services.care import household as care_household
from services.errors import Invalid
from services.payouts import status as payout_status
from services.permissions import can
from services.registry import areas, households, persons
from services.registry.categories import CATEGORIES
from services.registry.households import EXIT_REASONS, FLAGS, KINDS, STATUSES
from services.relief import apply as relief_apply
from services.visits import rules as visit_rules
from services.visits import visits

bp = Blueprint("households", __name__, url_prefix="/households")

PAGE_SIZE = 20
TOO_MANY_ID_LOOKUPS = "一小时内查到在别处登记的身份证号次数过多，为保护群众信息，请 1 小时后再试，或联系乡镇经办员"


def _typed_no_id_number() -> bool:
    return not request.form.get("id_number", "").strip()


def _found_elsewhere(_response) -> bool:
    return g.get("id_number_elsewhere", False)


# Typing ID numbers must not become a way to learn who is registered in the city: each number found
# outside the user's scope counts; after 20 in an hour every save with an ID number waits, found or not.
id_number_lookups = limiter.shared_limit(
    "20 per hour",
    scope="id-number-elsewhere",
    key_func=user_key,
    methods=["POST"],
    exempt_when=_typed_no_id_number,
    deduct_when=_found_elsewhere,
)


@bp.errorhandler(RateLimitExceeded)
def too_many_id_lookups(_error):
    """Say why saves with an ID number wait."""
    return render_template("error.html", code=429, message=TOO_MANY_ID_LOOKUPS), 429


def _undo_refused(session, problem: Invalid, id_number: str | None) -> None:
    """Undo a refused save; audit and count an ID number that is registered outside the user's scope."""
    session.rollback()
    if problem.code == persons.ID_ELSEWHERE and id_number:
        persons.record_duplicate_elsewhere(session, actor(), id_number)
        session.commit()
        g.id_number_elsewhere = True


def _villages():
    return list(get_session().exec(areas.areas_in_scope(current_user, level=4)))


@bp.route("/")
@login_required
def index():
    """List households in scope, with search and filters; htmx loads more rows."""
    session = get_session()
    keys = ("q", "category", "village", "card", "area", "kind", "flag")
    filters = {key: request.args.get(key, "").strip() for key in keys}
    filters["status"] = request.args.get("status", "active")
    if not areas.is_area_code(filters["area"]):
        filters["area"] = ""
    page = page_number()
    query = households.search_households(current_user, **filters)
    rows, has_more = households.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "households/index.html",
        "households/_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        villages=_villages(),
        categories=CATEGORIES,
        statuses=STATUSES,
        narrowed=_narrowed_by(filters),
        personal_data=True,
    )


def _narrowed_by(filters: dict) -> str:
    """Describe the filters the coverage page links with (area, kind, flag), for the notice above the list."""
    parts = []
    if filters["area"]:
        area = areas.get_area(get_session(), filters["area"])
        parts.append(area.name if area else filters["area"])
    if filters["kind"] in KINDS:
        parts.append(KINDS[filters["kind"]])
    if filters["flag"] in FLAGS:
        parts.append(FLAGS[filters["flag"]])
    return " · ".join(parts)


@bp.route("/<int:household_id>")
@login_required
def show(household_id: int):
    """Show one household: members (IDs masked), categories, care arrangement, status."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    members = households.members_with_categories(session, household)
    path = areas.area_path(session, household.area_code)
    assistant = households.assistant_of(session, household)
    return render_template(
        "households/show.html",
        household=household,
        members=members,
        path=path,
        assistant=assistant,
        kinds=KINDS,
        statuses=STATUSES,
        personal_data=True,
        back_url=url_for("households.index"),
        card=cards.live_card(session, household.id),
        scanned=request.args.get("scan") == "1",
        deliver_prompt=request.args.get("deliver") == "1",
        timeline=visits.timeline(session, household),
        visit_rules=visit_rules,
        care=care_household.summary(session, household, members),
        alerts=alert_listing.open_for_household(session, current_user, household.id, utcnow())
        if can(current_user, "alerts.view")
        else [],
        payouts=payout_status.household_status(session, household, members)
        if can(current_user, "payouts.household")
        else None,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@id_number_lookups
def create():
    """Register a household together with its head."""
    session = get_session()
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            data = households.parse_household_form(session, current_user, form)
        except Invalid as problem:
            errors.update(problem.errors)
            data = None
        try:
            head_fields = {**form.to_dict(), "relation": persons.HEAD, "phone": form.get("phone_head", "")}
            head = persons.parse_person_form(head_fields, form.getlist("categories"))
        except Invalid as problem:
            errors.update(problem.errors)
            head = None
        if data and head:
            try:
                household = households.add_household(session, actor(), data)
                persons.add_person(session, actor(), household, head)
            except Invalid as problem:
                _undo_refused(session, problem, head["id_number"])
                errors.update(problem.errors)
            else:
                session.commit()
                flash(f"已登记 {household.household_no} 号户", "success")
                return redirect(url_for("households.show", household_id=household.id))
    return _household_form(None, form, errors, url_for("households.index"))


def _household_form(household, form, errors: dict, back_url: str):
    """Render the household form (new or edit), with errors next to their fields and status 400."""
    session = get_session()
    villages = _villages()
    assistants = households.assistants_by_village(session, [v.code for v in villages])
    return render_template(
        "households/form.html",
        household=household,
        form=form,
        errors=errors,
        villages=villages,
        categories=CATEGORIES,
        kinds=KINDS,
        assistants=assistants,
        personal_data=True,
        back_url=back_url,
    ), (400 if errors else 200)


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@login_required
def edit(household_id: int):
    """Change a household's village, address, phone, care arrangement or assistant."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    errors = {}
    form = request.form if request.method == "POST" else _household_as_form(household)
    if request.method == "POST":
        try:
            data = households.parse_household_form(session, current_user, form)
            old_no = household.household_no
            new_no = households.update_household(session, actor(), household, data)
        except Invalid as problem:
            errors = problem.errors
        else:
            moved = relief_apply.follow_household(session, actor(), household)  # waiting ones go with it
            session.commit()
            notes = [f"{len(moved)} 份未办结的临时救助申请随户转到新的乡镇"] if moved else []
            if new_no:
                notes.append(f"新村（社区）已有 {old_no} 号户，这户改为 {new_no} 号，请重新打印户卡")
            flash("已保存" + ("。" + "；".join(notes) if notes else ""), "success")
            return redirect(url_for("households.show", household_id=household.id))
    return _household_form(household, form, errors, url_for("households.show", household_id=household.id))


def _household_as_form(household) -> dict:
    fields = ("area_code", "kind", "address", "phone", "guardian", "assistant_id")
    form = {name: getattr(household, name) or "" for name in fields}
    form["wants_institutional_care"] = "on" if household.wants_institutional_care else ""
    return form


@bp.route("/<int:household_id>/exit", methods=["GET", "POST"])
@login_required
def exit_household(household_id: int):
    """Take a household off the register with a reason (township officers and above)."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id, "household.exit")
    errors = {}
    if request.method == "POST":
        try:
            households.exit_household(
                session, actor(), household, request.form.get("reason", ""), request.form.get("note", "")
            )
        except Invalid as problem:
            errors = problem.errors
        else:
            session.commit()
            flash("这户已退出在册名单（记录保留，可随时恢复）", "success")
            return redirect(url_for("households.show", household_id=household.id))
    return render_template(
        "households/exit.html",
        household=household,
        reasons=EXIT_REASONS,
        errors=errors,
        back_url=url_for("households.show", household_id=household.id),
        personal_data=True,
    ), (400 if errors else 200)


@bp.route("/<int:household_id>/restore", methods=["POST"])
@login_required
def restore(household_id: int):
    """Put an exited household back on the register."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id, "household.exit")
    households.restore_household(session, actor(), household)
    session.commit()
    flash("已恢复为在册", "success")
    return redirect(url_for("households.show", household_id=household.id))


@bp.route("/<int:household_id>/members/new", methods=["GET", "POST"])
@login_required
@id_number_lookups
def add_member(household_id: int):
    """Add a member to a household."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    return _member_form(session, household, None)


@bp.route("/<int:household_id>/members/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
@id_number_lookups
def edit_member(household_id: int, person_id: int):
    """Change a member's details and categories."""
    session = get_session()
    household, person = households.get_person_for(session, current_user, person_id)
    if household.id != household_id:
        abort(404)
    return _member_form(session, household, person)


def _member_form(session, household, person):
    errors = {}
    if request.method == "POST":
        form = request.form
        data = {}
        try:
            data = persons.parse_person_form(form, form.getlist("categories"))
            if person is None:
                persons.add_person(session, actor(), household, data)
            else:
                persons.update_person(session, actor(), household, person, data)
        except Invalid as problem:
            _undo_refused(session, problem, data.get("id_number"))
            errors = problem.errors
        else:
            session.commit()
            flash("已保存", "success")
            return redirect(url_for("households.show", household_id=household.id))
        selected = form.getlist("categories")
    else:
        form = _person_as_form(session, person) if person else {}
        selected = form.get("categories", []) if person else []
    return render_template(
        "households/member_form.html",
        household=household,
        person=person,
        form=form,
        errors=errors,
        selected=selected,
        relations=persons.RELATIONS,
        categories=CATEGORIES,
        personal_data=True,
        back_url=url_for("households.show", household_id=household.id),
    ), (400 if errors else 200)


def _person_as_form(session, person) -> dict:
    return {
        "name": person.name,
        "relation": person.relation,
        "phone": person.phone or "",
        "id_number": "",
        "disability_grade": person.disability_grade or "",
        "sex": person.sex or "",
        "categories": persons.categories_of(session, person),
    }


@bp.route("/<int:household_id>/members/<int:person_id>/id-number", methods=["POST"])
@login_required
def reveal_id_number(household_id: int, person_id: int):
    """Show one member's full ID number; the view is audited."""
    session = get_session()
    household, person = households.get_person_for(session, current_user, person_id)
    if household.id != household_id:
        abort(404)
    number = persons.reveal_id_number(session, actor(), person)
    session.commit()
    return render_page_or_partial(
        "households/id_number.html",
        "households/_id_number.html",
        household=household,
        person=person,
        number=number,
        personal_data=True,
        back_url=url_for("households.show", household_id=household.id),
    )
