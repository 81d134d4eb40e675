"""A campaign's 主动发现 figures per child area: alerts raised, checked and their outcomes, still waiting, candidates.

Part of the statistics in stats.py, so the coverage page, the statistics table and the work report agree.
Each figure is one GROUP BY on the alert's (the subject's village) or the candidate's own area code, scoped
by the user like every other figure.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, select

from models import Alert, Area, Campaign, Candidate, User
from services.alerts.outcomes import OUTCOMES
from services.campaigns.campaigns import window
from services.campaigns.coverage import CHILD_PREFIX
from services.scope import where_in_scope, where_under

WAITING_STATES = ("open", "assigned")  # not yet checked by a visit
CHECKED_AT = Alert.checked_at  # when a check counts: the moment its outcome was recorded


def gather(session: Session, user: User, campaign: Campaign, area: Area, row: Callable, now: datetime) -> None:
    """Add the 主动发现 figures to the rows: row(prefix) returns the AreaStats of a child area's code prefix."""
    for prefix, raised, waiting, overdue in session.exec(_raised(user, campaign, area, now)).all():
        target = row(prefix)
        target.alerts_raised, target.alerts_waiting, target.alerts_overdue = raised, waiting, overdue
    for prefix, outcome, count in session.exec(_checked(user, campaign, area)).all():
        target = row(prefix)
        target.alerts_checked += count  # an outcome the table has no column for still counts as checked
        if outcome in OUTCOMES:
            target.outcomes[outcome] = count
    for prefix, found, waiting in session.exec(_candidates(user, campaign, area)).all():
        row(prefix).candidates_found, row(prefix).candidates_waiting = found, waiting


def _child(area: Area, column):
    return func.substr(column, 1, CHILD_PREFIX[area.level]).label("child")


def _under(user: User, area: Area, column) -> tuple:
    return where_in_scope(user, column), where_under(area.code, column)


def _raised(user: User, campaign: Campaign, area: Area, now: datetime):
    """Alerts raised inside the window per child area: all of them, those not yet checked, and of those the overdue."""
    start, end = window(campaign)
    child = _child(area, Alert.area_code)
    waiting = and_(Alert.outcome.is_(None), Alert.state.in_(WAITING_STATES))
    return (
        select(
            child,
            func.count(),
            func.count(case((waiting, 1))),
            func.count(case((and_(waiting, Alert.due_at < now), 1))),
        )
        .where(*_under(user, area, Alert.area_code), Alert.raised_at >= start, Alert.raised_at < end)
        .group_by(child)
    )


def _checked(user: User, campaign: Campaign, area: Area):
    """Alerts checked inside the window (an outcome recorded then) per child area and outcome, whenever raised."""
    start, end = window(campaign)
    child, checked_at = _child(area, Alert.area_code), CHECKED_AT
    return (
        select(child, Alert.outcome, func.count())
        .where(*_under(user, area, Alert.area_code), Alert.outcome.is_not(None), checked_at >= start, checked_at < end)
        .group_by(child, Alert.outcome)
    )


def _candidates(user: User, campaign: Campaign, area: Area):
    """Candidates (待核实对象) found inside the window per child area, and of those the ones not yet checked."""
    start, end = window(campaign)
    child = _child(area, Candidate.area_code)
    return (
        select(child, func.count(), func.count(case((Candidate.status == "open", 1))))
        .where(*_under(user, area, Candidate.area_code), Candidate.created_at >= start, Candidate.created_at < end)
        .group_by(child)
    )
