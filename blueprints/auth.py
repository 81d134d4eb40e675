"""Sign in, sign out, change password."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from blueprints import actor
from db import get_session
from extensions import limiter, username_key
from services.accounts import users
from services.errors import Invalid

bp = Blueprint("auth", __name__)

TOO_MANY = "登录尝试次数过多，为保护账号安全，请 1 分钟后再试"


def safe_next(target: str | None) -> str:
    """Return a same-site path to go to after login, or the home page."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], error_message=TOO_MANY)
@limiter.limit("5 per minute; 20 per hour", key_func=username_key, methods=["POST"], error_message=TOO_MANY)
def login():
    """Show the login form and sign a user in."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    error = None
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        session = get_session()
        user = users.authenticate(session, username, request.form.get("password", ""))
        if user is None:
            users.record_failed_login(session, actor(), username, "bad_credentials")
            error = "用户名或密码不对"
        elif not user.active:
            users.record_failed_login(session, actor(), username, "inactive")
            error = "这个账号已停用，请联系县（区）民政局"
        else:
            users.record_login(session, actor(), user)
            session.commit()
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        session.commit()
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error):
    """Say plainly that the account or address must wait."""
    return render_template("auth/login.html", error=TOO_MANY, username=""), 429


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    logout_user()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (required after a reset or for a new account)."""
    error = None
    if request.method == "POST":
        session = get_session()
        try:
            users.change_password(
                session,
                actor(),
                current_user,
                request.form.get("current", ""),
                request.form.get("new", ""),
                request.form.get("confirm", ""),
            )
        except Invalid as problem:
            error = str(problem)
        else:
            session.commit()
            flash("密码已修改", "success")
            return redirect(url_for("main.home"))
    page = render_template("auth/change_password.html", error=error, forced=current_user.must_change_password)
    return page, (400 if error else 200)
