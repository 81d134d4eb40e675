"""Sign in, sign out, change password."""

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from blueprints import actor
from db import get_session
from extensions import limiter, username_key
from services.accounts import sessions, users
from services.errors import Invalid

bp = Blueprint("auth", __name__)

TOO_MANY = "登录尝试次数过多，为保护账号安全，请 {wait}后再试"
WAIT_WORDS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}


def login_failed(response) -> bool:
    """Tell whether a login answer was a refusal: only those count against the account's limit."""
    return response.status_code == 401


def safe_next(target: str | None) -> str:
    """Return a same-site path to go to after login, or the home page."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])  # every attempt from one address
@limiter.limit("5 per minute; 20 per hour", key_func=username_key, methods=["POST"], deduct_when=login_failed)
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
            cookie.clear()  # a shared phone: nothing a previous user left in the session carries over
            login_user(user)
            cookie.permanent = True  # the lifetimes in config.py apply
            sessions.stamp(cookie, user, time.time())
            return redirect(safe_next(request.args.get("next")))
        session.commit()
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error: RateLimitExceeded):
    """Say plainly how long the account or address must wait, and audit the refused attempt."""
    breached = error.limit
    which = "account" if breached.key_func is username_key else "address"
    username = request.form.get("username", "").strip()
    session = get_session()
    users.record_blocked_login(session, actor(), username, f"{which} {breached.limit}")
    session.commit()
    window = breached.limit
    wait = f"{window.multiples} {WAIT_WORDS.get(window.GRANULARITY.name, '分钟')}"
    return render_template("auth/login.html", error=TOO_MANY.format(wait=wait), username=username), 429


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out here and everywhere else: a copy of this session's cookie stops working too."""
    if current_user.is_authenticated:
        session = get_session()
        users.sign_out_everywhere(session, actor(), current_user._get_current_object())
        session.commit()
    logout_user()
    cookie.clear()  # a shared phone: nothing of this user's stays for the next one (the last card scanned)
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
            sessions.keep_version(cookie, current_user)  # this phone stays signed in; every other session ends
            flash("密码已修改", "success")
            return redirect(url_for("main.home"))
    page = render_template("auth/change_password.html", error=error, forced=current_user.must_change_password)
    return page, (400 if error else 200)
