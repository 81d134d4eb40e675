"""Offline: the service worker, and the page shells it serves with no signal (filled on the phone from its pack).

A shell holds no personal data: it is the same for every assistant, and the phone's own IndexedDB (the
assistant's offline pack and outbox) fills it in. So the service worker caches only shells and static
files, never a page with someone's data in it.
"""

import hashlib
import json
import os

from flask import Blueprint, current_app, render_template, url_for
from flask_login import login_required

from services.alerts.outcomes import OUTCOMES, REFERRALS
from services.care import self_care
from services.relief import rules as relief_rules
from services.visits import rules as visit_rules

bp = Blueprint("offline", __name__)

# Static files no field page needs offline: office printing, the install icons, qr-scanner's module worker.
NOT_PRECACHED = ("css/print.css", "js/print.js", "icons/icon-512.png", "icons/icon-maskable-512.png")
NOT_PRECACHED_PREFIXES = ("vendor/VERSIONS", "vendor/qr-scanner-worker.min.js")
# An assistant's tab bar, as the shells draw it (no account is known to a shell)
SHELL_TABS = (
    {"key": "home", "label": "首页", "endpoint": "main.home"},
    {"key": "households", "label": "住户", "endpoint": "households.index"},
    {"key": "scan", "label": "扫码", "endpoint": "scan.index"},
    {"key": "visits", "label": "走访", "endpoint": "schedule.index"},
    {"key": "me", "label": "我的", "endpoint": "main.me"},
)
SHELLS = ("home", "households", "household", "visit", "relief", "report", "scan", "outbox", "page")


def static_assets() -> list[str]:
    """Return the static files the field pages use, as the asset URLs (with content hashes) pages link them."""
    asset_url = current_app.jinja_env.globals["asset_url"]
    folder = current_app.static_folder
    paths = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            if path not in NOT_PRECACHED and not path.startswith(NOT_PRECACHED_PREFIXES):
                paths.append(path)
    return [asset_url(path) for path in sorted(paths)]


def precache_list() -> list[str]:
    """Return every URL the service worker keeps: the shells and the static files."""
    return [url_for("offline.shell", name=name) for name in SHELLS] + static_assets()


@bp.route("/sw.js")
def service_worker():
    """Serve the service worker from the root, so it may answer for every page of the app."""
    urls = precache_list()
    version = hashlib.sha256(json.dumps(urls).encode()).hexdigest()[:12]  # a new asset, a new worker
    body = render_template("offline/sw.js", urls=urls, version=version)
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
    return response


@bp.route("/offline/<any(" + ", ".join(SHELLS) + "):name>")
def shell(name: str):
    """Serve a page shell: the layout of a field page, with no one's data in it."""
    context = {"tabs": list(SHELL_TABS), "current_tab": _tab_of(name), "shell": name, "offline_shell": True}
    if name == "visit":  # a focused form: no tab bar, as online
        return render_template("visits/form.html", **(context | _visit_form_context()))
    if name == "relief":
        return render_template("relief/form.html", **(context | _relief_form_context()))
    if name == "report":  # 上报疑似困难户: the villages come from the phone's pack
        report = {"villages": [], "chosen": "", "form": {}, "report_uuid": "", "errors": {}, "back_url": "/"}
        return render_template("candidates/report.html", **(context | report))
    if name == "scan":
        return render_template("scan/index.html", **context, deliver=False, decoder="auto", number="", not_found=False)
    return render_template(f"offline/{name}.html", **context)


@bp.route("/outbox")
@login_required
def outbox():
    """List what this phone still has to upload (read from the phone itself: the server knows nothing of it)."""
    return render_template("offline/outbox.html", shell="outbox", back_url=url_for("main.me"))


def _tab_of(name: str) -> str:
    return {"home": "home", "households": "households", "household": "households", "scan": "scan"}.get(name, "me")


def _relief_form_context() -> dict:
    """Return what the relief form template needs when the phone fills in the household and its members."""
    return {
        "household": None,
        "application": None,
        "need": None,
        "label": "",
        "members": [],
        "values": {"payment_form": "card"},
        "uuid": "",
        "errors": {},
        "error": "",
        "states": relief_rules.STATES,
        "reasons": relief_rules.REASONS,
        "reason_groups": relief_rules.REASON_GROUPS,
        "payment_forms": relief_rules.PAYMENT_FORMS,
        "actions": relief_rules.ACTIONS,
        "back_url": url_for("households.index"),
        "tabs": [],
    }


def _visit_form_context() -> dict:
    """Return what the one visit form template needs when no household is known yet (the phone fills it in)."""
    return {
        "household": None,
        "label": "",
        "head": "",
        "scan_id": None,
        "kind": "routine",
        "kinds": visit_rules.KINDS,
        "checklist": visit_rules.CHECKLIST,
        "self_checks": visit_rules.SELF_CHECKS,
        "household_self_checks": (),
        "care_block": self_care.visit_block([]),  # the phone adds its pack's members
        "changes": visit_rules.CHANGES,
        "need_types": {k: v for k, v in visit_rules.NEED_TYPES.items() if k != "review"},
        "empty_need_rows": 3,
        "risks": visit_rules.RISKS,
        "captions": visit_rules.PHOTO_CAPTIONS,
        "max_photos": 9,
        "alert_outcomes": OUTCOMES,  # the alert block's choices; the phone fills in the task from its pack
        "alert_referrals": REFERRALS,
        "back_url": url_for("households.index"),
        "tabs": [],
    }
