"""The bottom tab bar: which tabs a role sees (at most five, no dead links)."""

from flask import request
from flask_login import current_user

from db import get_session
from services.permissions import ROLES, can
from services.relief.queue import waiting_count

# (key, label, endpoint, capability or None for everyone signed in)
TABS = [
    ("home", "首页", "main.home", None),
    ("households", "住户", "households.index", None),
    ("scan", "扫码", "scan.index", "visits.own_round"),
    ("visits", "走访", "schedule.index", None),
    ("relief", "审批", "relief.index", "relief.queue"),
    ("me", "我的", "main.me", None),
]


def tabs_for(user) -> list[dict]:
    """Return the tabs this user sees, in order."""
    return [
        {"key": key, "label": label, "endpoint": endpoint}
        for key, label, endpoint, capability in TABS
        if capability is None or can(user, capability)
    ][:5]


def current_tab() -> str:
    """Return the key of the tab the current page belongs to."""
    if request.endpoint == "cards.landing":
        return "scan"  # a scanned card's page belongs with the scanner, not with 我的
    if request.endpoint == "alerts.rules":
        return "me"  # the city's settings, reached from 我的
    blueprint = request.blueprint or ""
    tabs = {
        "households": "households",
        "main": "home",
        "coverage": "home",  # coverage and reports are reached from 首页
        "reports": "home",
        "alerts": "home",  # 主动发现 is reached from 首页
        "scan": "scan",
        "visits": "visits",
        "schedule": "visits",
        "needs": "visits",
        "relief": "relief",
        "relief_overview": "relief",
    }
    return tabs.get(blueprint, "me")


def tab_badge(key: str) -> int:
    """Return the number on a tab: applications waiting for this user on 审批 (counted only when the bar is drawn)."""
    if key != "relief" or not current_user.is_authenticated:
        return 0
    return waiting_count(get_session(), current_user)


def template_helpers() -> dict:
    """Values every template may use."""
    if not current_user.is_authenticated:
        return {"tabs": [], "current_tab": "", "role_names": ROLES, "tab_badge": tab_badge}
    tab = "me" if request.endpoint == "main.me" else current_tab()
    return {"tabs": tabs_for(current_user), "current_tab": tab, "role_names": ROLES, "tab_badge": tab_badge}
