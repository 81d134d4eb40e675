"""兜底通 (Doudi): the application factory, and `python app.py` for a demo server."""

import os
import time

from flask import Flask, render_template, request
from flask import session as cookie
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import config
import db
from extensions import compress, csrf, limiter, login_manager
from services.errors import Invalid
from services.inputs import MAX_ID, NUL

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class RowIdConverter(IntegerConverter):
    """<int:…> in every rule: ASCII digits only, and no larger than an id column holds, so a lookup cannot overflow."""

    regex = r"[0-9]+"  # \d would also take other scripts' digits, which int() reads

    def __init__(self, map, **options):
        options.setdefault("max", MAX_ID)
        super().__init__(map, **options)


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the Doudi app."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter  # before any rule is added: every <int:…> is bounded
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.config["DATABASE_URL"] = config.normalise_database_url(app.config["DATABASE_URL"])
    app.config["COMPRESS_MIMETYPES"] = [
        "text/html",
        "text/css",
        "application/javascript",
        "text/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ]
    app.config["COMPRESS_ALGORITHM"] = ["br", "gzip"]
    # Static files are streamed: Flask-Compress's default list for them has no gzip, so an old WebView that
    # asks only for gzip got 188 KB of WeUI instead of 23 KB; and its zstd is bigger than br here.
    app.config["COMPRESS_ALGORITHM_STREAMING"] = ["br", "gzip", "deflate"]
    config.check_production_ready(app.config)
    if app.config.get("TRUSTED_PROXY_COUNT"):
        # audit addresses and per-address rate limits need the client's address, not the proxy's
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    app.before_request(refuse_unreadable_input)  # registered before CSRFProtect's check, so it runs first
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    _configure_login(app)

    from blueprints import (
        alerts,
        api,
        areas,
        auth,
        cards,
        care,
        coverage,
        households,
        imports,
        main,
        needs,
        offline,
        payouts,
        photos,
        relief,
        relief_overview,
        reports,
        scan,
        schedule,
        users,
        visits,
    )

    modules = (auth, main, households, users, areas, imports, cards, scan, api, photos, visits, schedule, needs)
    for module in (*modules, offline, relief, relief_overview, coverage, reports, payouts, alerts, care):
        app.register_blueprint(module.bp)
    from blueprints import candidates, signals  # 主动发现: department lists and 待核实对象

    for module in (candidates, signals):
        app.register_blueprint(module.bp)

    from commands import register_commands

    register_commands(app)
    _register_templates(app)
    _register_errors(app)
    app.after_request(_security_headers)
    return app


def _configure_login(app: Flask) -> None:
    from models import User
    from services.accounts import sessions

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        """Return the signed-in user (one query by primary key) if this session still counts, else sign it out."""
        user = db.get_session().get(User, int(user_id)) if user_id.isdigit() else None
        now = time.time()
        lifetimes = {"idle": app.permanent_session_lifetime, "absolute": app.config["SESSION_MAX_LIFETIME"]}
        if user is None or not sessions.is_current(cookie, user, now, **lifetimes):
            sessions.forget(cookie)
            return None
        sessions.touch(cookie, now)
        return user

    @app.before_request
    def force_password_change():
        """Send accounts with a temporary password to the change-password page first."""
        allowed = {"auth.change_password", "auth.logout", "static", "main.healthz", "main.manifest"}
        if request.blueprint == "api":
            return None  # the API answers 403 in JSON itself (blueprints/api/core.py api_login_required)
        if current_user.is_authenticated and current_user.must_change_password and request.endpoint not in allowed:
            from flask import redirect, url_for

            return redirect(url_for("auth.change_password"))
        return None


def refuse_unreadable_input() -> None:
    """Refuse, before anything reads it, input no view could take: nameless multipart parts, NUL characters.

    A multipart part without a name lands in request.form under the key None, where Flask-WTF's CSRF
    check (key.endswith) and every form.to_dict(**…) would fail with a 500. PostgreSQL cannot store or
    even compare a NUL character, so a NUL in the path, the query or a form field is refused here once.
    """
    if NUL in request.path or _has_nul(request.args):
        raise Invalid("网址中有无法识别的空字符，请检查后重试", code="bad_request")
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.mimetype not in FORM_TYPES:
        return
    if None in request.form or None in request.files:
        raise Invalid("提交的表单格式不对（有一项没有名字），请刷新页面后重新提交", code="bad_form")
    if _has_nul(request.form):
        raise Invalid("填写的内容中有无法保存的空字符，请删除后重新提交", code="bad_form")


def _has_nul(values) -> bool:
    return any(NUL in key or NUL in value for key, value in values.items(multi=True))


def _register_templates(app: Flask) -> None:
    from blueprints import filters
    from blueprints.nav import template_helpers

    app.context_processor(template_helpers)
    filters.register(app)


def _register_errors(app: Flask) -> None:
    messages = {
        400: "请求有误，请返回重试",
        403: "您没有权限做这件事",
        404: "没有找到这个页面，或它不在您的辖区内",
        405: "不支持这种请求方式",
        413: "文件太大了",
        429: "操作太频繁，请稍后再试",
        500: "系统出了点问题，请稍后再试",
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if request.path.startswith("/api/"):  # the offline client reads JSON, even for an unknown URL
            from blueprints.api.core import http_error

            return http_error(error)
        page = render_template("error.html", code=code, message=messages.get(code, "出错了"))
        allowed = getattr(error, "valid_methods", None)  # a 405 names the methods the URL takes
        return page, code, ({"Allow": ", ".join(sorted(allowed))} if allowed else {})

    for code in messages:
        app.register_error_handler(code, render_error)

    from services.errors import DoudiError

    @app.errorhandler(DoudiError)
    def refused(error: DoudiError):
        """Answer a service's refusal that no view turned into a form message: its page, its status, nothing kept."""
        db.get_session().rollback()  # whatever the request had written before the refusal goes too
        if request.path.startswith("/api/"):
            from blueprints.api.core import refusal

            return refusal(error)
        message = error.message if error.given else messages.get(error.status, "出错了")
        return render_template("error.html", code=error.status, message=message), error.status

    from flask_wtf.csrf import CSRFError
    from sqlalchemy.exc import OperationalError

    @app.errorhandler(OperationalError)
    def database_busy(error):
        """Say 'busy, try again' when SQLite is locked by another writer, rather than a bare 500."""
        if "locked" not in str(error.orig).lower():
            raise error
        message = "系统正忙，请稍等几秒再试"
        if request.path.startswith("/api/"):
            from blueprints.api.core import error as api_error

            return api_error(503, "busy", message)
        return render_template("error.html", code=503, message=message), 503

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        message = "页面已过期或来源不明，请刷新页面后重新提交"
        return render_template("error.html", code=400, message=message), 400


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    if request.endpoint not in ("static", "photos.show", "photos.thumb") and "Cache-Control" not in response.headers:
        # pages carry personal data: never into shared caches
        response.headers["Cache-Control"] = "private, no-store"
    return response


def main() -> None:
    """Migrate, seed demo data on an empty database, and serve on 127.0.0.1:PORT."""
    app = create_app()
    from commands import clean_up_at_startup, prepare_demo_database

    with app.app_context():
        prepare_demo_database(app)
        clean_up_at_startup(app)  # here, not in create_app: gunicorn runs that in every worker, tests hundreds of times
    port = config.env_int("PORT", 5000)
    app.run(host="127.0.0.1", port=port, debug=False)


if __name__ == "__main__":
    main()
