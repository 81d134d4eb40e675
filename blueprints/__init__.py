"""Blueprints, one per product area, and the small helpers every view shares."""

from flask import make_response, render_template, request
from flask_login import current_user

from services.audit import Actor


def actor() -> Actor:
    """Return who is acting in this request, and from which address, for the audit trail."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, ip=request.remote_addr)


def is_htmx() -> bool:
    """Tell whether htmx asked for a partial (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render_page_or_partial(template: str, partial: str, **context):
    """Render the whole page, or only the partial for htmx; one URL serves both."""
    response = make_response(render_template(partial if is_htmx() else template, **context))
    response.headers["Vary"] = "HX-Request"
    return response


def page_number(default: int = 1) -> int:
    """Return the ?page= number, at least 1."""
    value = request.args.get("page", "")
    return max(int(value), 1) if value.isdigit() else default
