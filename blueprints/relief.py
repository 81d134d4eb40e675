"""Temporary relief pages: apply, the approver's one screen, decisions, the 审批 tab."""

from uuid import uuid4

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, page_number, render_page_or_partial
from db import get_session
from services.errors import Conflict, Invalid, NotAllowed, Stale
from services.inputs import small_int
from services.money import fen_to_yuan, yuan
from services.names import household_label
from services.permissions import can
from services.registry import households
from services.relief import apply as relief_apply
from services.relief import evidence, machine, queue
from services.relief import form as relief_form
from services.relief import screen as approver_screen
from services.relief.machine import Decision
from services.relief.rules import ACTIONS, HISTORY_ONLY, PAYMENT_FORMS, REASON_GROUPS, REASONS, STATES
from services.visits import needs
from services.visits import rules as visit_rules
from services.visits.visits import looks_like_uuid

bp = Blueprint("relief", __name__, url_prefix="/relief")

PAGE_SIZE = 20
HOUSEHOLD_LIST = 10
EMPTY = {
    "submitted": "没有等待审批的申请",
    "forwarded": "没有等待县级审批的申请",
    "paperwork": "没有待补材料的先行救助",
    "overdue": "没有逾期未补材料的先行救助",
    "approved": "没有待发放的救助",
    "mine": "还没有提出过临时救助申请",
}
LABELS = {
    "states": STATES,
    "reasons": REASONS,
    "reason_groups": REASON_GROUPS,
    "payment_forms": PAYMENT_FORMS,
    "actions": ACTIONS,
    "history_only": HISTORY_ONLY,
}


@bp.route("/")
@login_required
def index():
    """List what waits for this user (the 审批 tab), or what they raised (?mine=1); htmx loads more of one list."""
    session = get_session()
    mine = request.args.get("mine") == "1"
    lists = queue.lists_for(current_user, mine)
    key = request.args.get("list", "")
    chosen = [(k, title) for k, title in lists if k == key] or list(lists)
    page = page_number() if len(chosen) == 1 else 1
    sections = []
    for list_key, title in chosen:
        query = queue.list_query(current_user, list_key)
        rows, has_more = queue.list_rows(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        sections.append(
            {"key": list_key, "title": title, "rows": rows, "has_more": has_more, "empty": EMPTY.get(list_key, "")}
        )
    single = len(chosen) == 1 and len(lists) > 1  # one list of several, opened alone (load more without htmx)
    return render_page_or_partial(
        "relief/index.html",
        "relief/_rows.html",
        sections=sections,
        section=sections[0],
        page=page,
        mine=mine,
        single=single,
        back_url=url_for("relief.index", mine="1" if mine else None) if single else None,
        days_left=queue.days_left,
        personal_data=True,
        **LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Show and take the application form; the form's UUID makes a double submit land on the same application."""
    session = get_session()
    household_id = request.args.get("household", type=int) or 0
    household = households.get_household_for(session, current_user, household_id, "relief.raise")
    if not households.is_active(household):
        return render_template("error.html", message="这户已退出在册，不能再申请临时救助", code=409), 409
    need = _need_of(session, household, request.args.get("need", type=int))
    members = households.members_with_categories(session, household)
    if request.method == "GET":
        values = {"person_id": str(members[0][0].id) if members else "", "payment_form": "card"}
        values["circumstances"] = need.description if need else ""
        return _render_form(session, household, members, need, values, uuid=str(uuid4()))
    uuid = request.form.get("uuid", "")
    if not looks_like_uuid(uuid):
        abort(400)
    result = relief_form.parse(
        request.form,
        uuid=uuid,
        household_id=household.id,
        member_ids={p.id for p, _c in members},
        need_id=need.id if need else None,
    )
    if result.errors:
        return _render_form(session, household, members, need, result.values, uuid=uuid, errors=result.errors), 400
    try:
        application, created = relief_apply.create_application(session, actor(), result.payload)
    except Conflict:
        flash("这份申请已经提交过，下面是已保存的内容", "warning")
        existing = evidence.get_application_by_uuid_for(session, current_user, uuid)
        return redirect(url_for("relief.show", application_id=existing.id))
    except Invalid as problem:
        session.rollback()  # a refused submit leaves no half-made draft behind
        page = _render_form(session, household, members, need, result.values, uuid=uuid, error=str(problem))
        return page, 400
    session.commit()
    if created:
        submitted = application.state == "submitted"
        flash(ACTIONS["submit"].done if submitted else "已存为草稿，可以随时修改后提交", "success")
    else:
        flash("这份申请已经提交过，没有重复保存", "warning")
    return redirect(url_for("relief.show", application_id=application.id))


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id: int):
    """Let the creator change a draft or returned application and submit it (again)."""
    session = get_session()
    application = machine.get_application_for(session, current_user, application_id)
    household = households.get_household_for(session, current_user, application.household_id)
    if not relief_apply.can_edit(current_user, application):
        abort(403)
    members = households.members_with_categories(session, household)
    need = _need_of(session, household, application.need_id)
    if request.method == "GET":
        values = relief_form.values_of(application)
        return _render_form(session, household, members, need, values, application=application)
    result = relief_form.parse(
        request.form,
        uuid=application.uuid,
        household_id=household.id,
        member_ids={p.id for p, _c in members},
        need_id=application.need_id,
    )
    if result.errors:
        page = _render_form(
            session, household, members, need, result.values, application=application, errors=result.errors
        )
        return page, 400
    version = request.form.get("version", type=int) or 0
    try:
        relief_apply.update_application(session, actor(), application, result.payload, version)
    except Stale as problem:
        flash(str(problem), "warning")
        return redirect(url_for("relief.show", application_id=application.id))
    except Invalid as problem:
        session.rollback()  # the edit may have landed before its submit was refused
        page = _render_form(
            session, household, members, need, result.values, application=application, error=str(problem)
        )
        return page, 400
    session.commit()
    flash(ACTIONS["submit"].done if application.state == "submitted" else "已保存草稿", "success")
    return redirect(url_for("relief.show", application_id=application.id))


@bp.route("/<int:application_id>")
@login_required
def show(application_id: int):
    """Show the approver's one screen: who, why, evidence, past relief, reserve and limit, history, decisions."""
    session = get_session()
    application = machine.get_application_for(session, current_user, application_id)
    return _render_show(session, application)


@bp.route("/<int:application_id>/decisions", methods=["POST"])
@login_required
def decide(application_id: int):
    """Make one decision through the state machine; a stale or refused one changes nothing and says why."""
    session = get_session()
    application = machine.get_application_for(session, current_user, application_id)
    form = request.form
    action = form.get("action", "")
    version = form.get("version", "")
    if small_int(version) is None:  # ASCII digits only: int() refuses "²", which isdigit() lets through
        return _render_show(session, application, error="页面已过期，请刷新后再操作", status=400)
    decision = Decision(
        action=action,
        version=int(version),
        amount_yuan=form.get("amount_yuan", "").strip() or None,
        comment=form.get("comment", ""),
        payment_method=form.get("payment_method") or None,
        payment_reference=form.get("payment_reference", ""),
    )
    try:
        machine.decide(session, actor(), application, decision)
    except Stale as problem:
        return _render_show(session, application, stale=str(problem), status=409)
    except NotAllowed as problem:
        return _render_show(session, application, error=str(problem), status=403)
    except Invalid as problem:
        return _render_show(session, application, error=str(problem), open_action=action, typed=form, status=400)
    session.commit()
    flash(_done_message(session, application, action), "success")
    return redirect(url_for("relief.show", application_id=application.id))


@bp.route("/households/<int:household_id>")
@login_required
def for_household(household_id: int):
    """List a household's applications (the household page loads this part)."""
    session = get_session()
    household = households.get_household_for(session, current_user, household_id)
    query = queue.for_household(household)
    applications, has_more = queue.list_rows(session, query, offset=0, limit=HOUSEHOLD_LIST)
    return render_page_or_partial(
        "relief/household.html",
        "relief/_household.html",
        household=household,
        rows=applications,
        has_more=has_more,
        can_apply=can(current_user, "relief.raise") and households.is_active(household),
        back_url=url_for("households.show", household_id=household.id),
        personal_data=True,
        **LABELS,
    )


def _need_of(session, household, need_id: int | None):
    """Return the need an application starts from, if it is this household's (a foreign one is ignored)."""
    if not need_id:
        return None
    need = needs.get_need_for(session, current_user, need_id)
    return need if need.household_id == household.id else None


def _render_form(session, household, members, need, values, *, uuid="", application=None, errors=None, error=""):
    label = household_label(session, household)
    return render_template(
        "relief/form.html",
        household=household,
        label=label,
        members=members,
        need=need,
        values=values,
        uuid=uuid,
        application=application,
        errors=errors or {},
        error=error,
        back_url=url_for("relief.show", application_id=application.id)
        if application
        else url_for("households.show", household_id=household.id),
        personal_data=True,
        tabs=[],  # a focused form: the tab bar would only invite losing what was typed
        **LABELS,
    )


def _render_show(session, application, *, error="", stale="", open_action="", typed=None, status=200):
    household = households.get_household_for(session, current_user, application.household_id)
    screen = approver_screen.screen(session, current_user, application, household)
    primary, others = _split_actions(screen.actions)
    can_edit = relief_apply.can_edit(current_user, application)
    page = render_template(
        "relief/show.html",
        s=screen,
        a=application,
        error=error,
        stale=stale,
        open_action=open_action,
        typed=typed or {},
        fen_to_yuan=fen_to_yuan,
        can_edit=can_edit,
        primary=primary,
        others=others,
        visit_rules=visit_rules,
        back_url=url_for("relief.index") if can(current_user, "relief.queue") else url_for("relief.index", mine="1"),
        personal_data=True,
        **({"tabs": []} if primary or can_edit else {}),  # the decision bar takes the tab bar's place
        **LABELS,
    )
    return page, status


def _split_actions(actions: list[str]) -> tuple[str | None, list[str]]:
    """Return the action for the big button and the others (behind 更多操作)."""
    ordered = sorted(actions, key=lambda code: ACTIONS[code].rank)
    return (ordered[0], ordered[1:]) if ordered else (None, [])


def _done_message(session, application, action: str) -> str:
    drawn = machine.has_reserve(machine.fund_for(session, application.township_code))
    if action == "approve" and application.decided_level == "township" and drawn:
        return f"已批准 {yuan(application.amount_approved_fen)} 元，已从乡镇备用金中支出"
    if action == "approve":
        return f"已批准 {yuan(application.amount_approved_fen)} 元"
    return ACTIONS[action].done if action in ACTIONS else "已保存"
