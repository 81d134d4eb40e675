"""The loop of issue 14 end to end: a rule raises an alert, it becomes the assistant's task, a visit checks it with
纳入低保, the alert closes, and the township's statistics table counts it — through the app, as people use it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models import Alert, AuditEvent, Campaign
from services.alerts import engine
from services.audit import Actor
from services.clock import today_in_china
from tests.alert_helpers import check_visit
from tests.conftest import page_text
from tests.test_statistics_xlsx import DISCOVERY, read_both

ROBOT = Actor(user=None, ip="cron")


@pytest.fixture
def campaign(session, world):
    today = today_in_china()
    campaign = Campaign(
        name="入冬排查",
        start_date=today - timedelta(days=7),
        end_date=today + timedelta(days=7),
        created_by_id=world.city.id,
    )
    session.add(campaign)
    session.commit()
    return campaign


def test_an_alert_checked_with_dibao_by_a_visit_closes_and_counts_in_the_statistics_table(
    session, world, campaign, as_user
):
    household = world.household_a  # one person: alone, and never visited since registration
    household.created_at = datetime.now(UTC) - timedelta(days=120)
    session.add(household)
    session.commit()
    assert engine.run(session, ROBOT, only={"alone_no_contact_90"}).raised["alone_no_contact_90"] == 1
    session.commit()
    alert = session.exec(select(Alert).where(Alert.household_id == household.id)).one()
    assert (alert.state, alert.assigned_to_id) == ("assigned", world.assistant_a.id)

    assistant = as_user("assistant_a")
    home = page_text(assistant.get("/"))
    assert "待核实预警" in home and "独居无人联系" in home
    form = page_text(assistant.get(f"/households/{household.id}/visits/new", query_string={"alert": alert.id}))
    assert "核实预警" in form and "纳入低保" in form
    visit = check_visit(household, alert, alert_outcome="dibao", alert_note="收入低于标准，已指导申请低保")
    response = assistant.post("/api/v1/visits", json=visit)
    assert response.status_code == 201, response.get_json()

    session.expire_all()
    alert = session.get(Alert, alert.id)
    assert (alert.state, alert.outcome, alert.open_key) == ("closed", "dibao", None)
    assert alert.visit_id is not None and alert.checked_at is not None
    steps = session.exec(select(AuditEvent.action).where(AuditEvent.object_id == str(alert.id))).all()
    assert {"alert.checked", "alert.closed"} <= set(steps)
    assert "待核实预警" not in page_text(assistant.get("/"))

    table = as_user("township").get("/reports/statistics.xlsx", query_string={"campaign": campaign.id})
    assert table.status_code == 200
    rows = read_both(table.data)
    assert rows["碗窑村"][(DISCOVERY, "纳入低保")] == 1 and rows["合计"][(DISCOVERY, "纳入低保")] == 1
    assert rows["碗窑村"][(DISCOVERY, "已核实")] == 1 and rows["勐准村"][(DISCOVERY, "纳入低保")] == 0
