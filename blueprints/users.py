"""Account management for county and city officers and admins: list, create, deactivate, reset."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints import actor, is_htmx, page_number, render_page_or_partial
from db import get_session
from services.accounts import users
from services.errors import Invalid
from services.paging import page_of
from services.permissions import ROLES, assignable_roles, require
from services.registry import areas
from services.scope import LEVEL_OF_ROLE

bp = Blueprint("users", __name__, url_prefix="/users")

PAGE_SIZE = 20
FORM_FIELDS = ("username", "display_name", "phone", "role", "area_code", "password")


@bp.before_request
@login_required
def require_manager():
    """Keep everyone but county and city officers and admins out of every page here."""
    require(current_user, "users.manage")


@bp.route("/")
def index():
    """List accounts in scope, with search by name or username and a role filter; htmx loads more rows."""
    session = get_session()
    filters = {key: request.args.get(key, "").strip() for key in ("q", "role")}
    page = page_number()
    query = users.search_users(current_user, **filters)
    rows, has_more = page_of(session, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_page_or_partial(
        "users/index.html",
        "users/_rows.html",
        rows=rows,
        has_more=has_more,
        page=page,
        filters=filters,
        area_names=areas.area_names(session, {user.area_code for user in rows}),
        roles={role: ROLES[role] for role in assignable_roles(current_user)},
        personal_data=True,
    )


@bp.route("/new", methods=["GET", "POST"])
def create():
    """Create an account; the area choices follow the chosen role (htmx swaps them in)."""
    session = get_session()
    roles = assignable_roles(current_user)
    form = request.form if request.method == "POST" else request.args
    role = form.get("role") if form.get("role") in roles else roles[0]
    errors = {}
    if request.method == "POST":
        data = {name: form.get(name, "") for name in FORM_FIELDS}
        generated = not data["password"]
        if generated:
            data["password"] = users.temporary_password()
        try:
            user = users.create_user(session, actor(), **data)
        except Invalid as problem:
            errors = problem.errors
        else:
            session.commit()
            if generated:  # shown once, in this response only: never flashed, never stored in clear
                return _password_page(user, data["password"], created=True)
            flash(f"已创建账号 {user.username}，请把用户名和初始密码告诉本人", "success")
            return redirect(url_for("users.show", user_id=user.id))
    choices = areas.area_choices(session, current_user, LEVEL_OF_ROLE[role])
    context = {"form": form, "role": role, "roles": roles, "choices": choices, "errors": errors}
    if request.method == "GET" and is_htmx():
        return render_page_or_partial("users/form.html", "users/_area_field.html", **context)
    page = render_template("users/form.html", back_url=url_for("users.index"), personal_data=True, **context)
    return page, (400 if errors else 200)


@bp.route("/<int:user_id>")
def show(user_id: int):
    """Show one account with its buttons: deactivate or activate, reset password."""
    session = get_session()
    user = users.get_user_for(session, current_user, user_id)
    return _detail(session, user)


def _detail(session, user, error: str | None = None, status: int = 200):
    path = areas.area_path(session, user.area_code)
    return render_template(
        "users/show.html",
        user=user,
        path=path,
        error=error,
        is_self=user.id == current_user.id,
        back_url=url_for("users.index"),
        personal_data=True,
    ), status


@bp.route("/<int:user_id>/active", methods=["POST"])
def set_active(user_id: int):
    """Deactivate (active=0) or activate (active=1) an account."""
    session = get_session()
    user = users.get_user_for(session, current_user, user_id)
    value = request.form.get("active")
    if value not in ("0", "1"):
        abort(400)
    try:
        users.set_active(session, actor(), user, value == "1")
    except Invalid as problem:
        return _detail(session, user, error=str(problem), status=400)
    session.commit()
    flash(f"已启用 {user.display_name} 的账号" if user.active else f"已停用 {user.display_name} 的账号", "success")
    return redirect(url_for("users.show", user_id=user.id))


@bp.route("/<int:user_id>/reset", methods=["POST"])
def reset(user_id: int):
    """Give an account a temporary password and show it once, in this response only."""
    session = get_session()
    user = users.get_user_for(session, current_user, user_id)
    try:
        temporary = users.reset_password(session, actor(), user)
    except Invalid as problem:
        return _detail(session, user, error=str(problem), status=400)
    session.commit()
    return _password_page(user, temporary, created=False)


def _password_page(user, password: str, *, created: bool):
    return render_template(
        "users/password.html",
        user=user,
        password=password,
        created=created,
        back_url=url_for("users.show", user_id=user.id),
        personal_data=True,
    )
