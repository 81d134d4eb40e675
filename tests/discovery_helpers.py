"""主动发现 rows for tests, stored directly: alerts at any stage of their life, and candidates."""

import itertools
import re
from datetime import datetime, timedelta

from models import Alert, Candidate

_serial = itertools.count(1)


def add_alert(
    session,
    household,
    raised_at: datetime,
    *,
    outcome: str | None = None,
    checked_at: datetime | None = None,
    state: str | None = None,
    due_at: datetime | None = None,
    grade: str = "red",
    area_code: str | None = None,
) -> Alert:
    """Add an alert about a household: open, or checked with an outcome (and closed) at checked_at."""
    number = next(_serial)
    checked = outcome is not None
    alert = Alert(
        open_key=None if checked else f"test:{number}",
        rule="urgent_no_follow_up",
        grade=grade,
        area_code=area_code or household.area_code,
        household_id=household.id,
        reason="测试预警",
        state=state or ("closed" if checked else "open"),
        raised_at=raised_at,
        due_at=due_at or raised_at + timedelta(days=3),
        outcome=outcome,
        closed_at=checked_at if checked else None,
        checked_at=checked_at if checked else None,
    )
    session.add(alert)
    session.flush()
    return alert


def add_candidate(
    session, area_code: str, created_at: datetime, status: str = "open", name: str = "待核实"
) -> Candidate:
    """Add a candidate (待核实对象) found for an area at a given moment."""
    candidate = Candidate(area_code=area_code, name=name, source="field_report", status=status, created_at=created_at)
    session.add(candidate)
    session.flush()
    return candidate


def discovery_cells(page: str) -> dict[str, tuple[str, str]]:
    """Return the breakdown's 主动发现 cells as {label: (link, number shown)}."""
    block = re.search(r'id="discovery".*?</div>.*?id="discovery-outcomes".*?</div>', page, re.S).group(0)
    cells = re.findall(r'href="([^"]+)"><span class="weui-cell__bd">([^<]+)</span><span[^>]*>([^<]+)</span>', block)
    return {label: (link.replace("&amp;", "&"), shown) for link, label, shown in cells}
