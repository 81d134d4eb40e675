"""The coverage breakdown's 主动发现 block on a 360 px phone, with alerts in the world.

Set SCREENSHOT_DIR to keep 360×640 screenshots of the block.
"""

import os
from pathlib import Path

from tests.conftest import VILLAGE_A
from tests.discovery_helpers import add_alert, add_candidate
from tests.test_discovery_stats import IN_WINDOW, world_with_alerts
from tests.test_discovery_stats import campaign as campaign  # the fixture: a February campaign

WIDTH, MIN_TAP = 360, 44


def test_the_township_reads_and_taps_the_discovery_counts_on_a_phone(
    page, live_server, sign_in, session, world, campaign
):
    world_with_alerts(session, world)
    add_alert(session, world.household_a, IN_WINDOW, state="assigned")  # a second overdue one
    add_candidate(session, VILLAGE_A, IN_WINDOW)
    session.commit()
    sign_in(world.township)
    page.goto(f"{live_server}/coverage/breakdown?campaign={campaign.id}")
    block = page.locator("#discovery")
    block.scroll_into_view_if_needed()
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / "breakdown-discovery.png"))
        page.locator("#discovery-outcomes").scroll_into_view_if_needed()
        page.screenshot(path=str(Path(folder) / "breakdown-outcomes.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    cells = page.locator("#discovery a, #discovery-outcomes a").all()
    assert len(cells) == 11
    assert all(cell.bounding_box()["height"] >= MIN_TAP for cell in cells)
    assert "其中已逾期" in block.inner_text() and "2 条" in page.locator("#discovery .stats-table__bad").inner_text()
