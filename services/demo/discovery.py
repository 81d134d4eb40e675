"""The demo's 主动发现: the rules run over the story's data, one alert checked at the door, one field report.

After this the assistant's 首页 has tasks, the township's has red/orange/yellow counts and a candidate waiting,
and the breakdown counts one family brought into 低保: the loop the product exists for, visible at first login.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from models import Alert, Household
from services.alerts import engine
from services.api.schemas import VisitIn
from services.audit import Actor
from services.candidates.candidates import FieldReport
from services.candidates.candidates import report as field_report
from services.visits.visits import record_visit

CHECKED_RULE = "urgent_no_follow_up"  # the story: an urgent visit left hanging, followed up, the family brought in
REPORT = ("杨秀兰", "独自带着两个孙子住在村口旧房里，房顶塌了一角，没有在任何名单上，请乡镇核实")


@dataclass
class DemoDiscovery:
    """What the demo's 主动发现 made: alerts raised by rule, one checked, one candidate reported."""

    raised: dict[str, int] = field(default_factory=dict)
    checked: int = 0
    candidates: int = 0

    @property
    def total(self) -> int:
        return sum(self.raised.values())


def seed_discovery(session: Session, rng: random.Random, cast: dict[str, Actor], today: date) -> DemoDiscovery:
    """Run the rules as of today, check one of the assistant's alerts with 纳入低保, report one unregistered family."""
    result = DemoDiscovery()
    now = datetime(today.year, today.month, today.day, 2, tzinfo=UTC)  # 10:00 in Lincang
    result.raised = {code: n for code, n in engine.run(session, cast["county"], now=now).raised.items() if n}
    assistant = cast["assistant"]
    task = session.exec(
        select(Alert)
        .join(Household, Household.id == Alert.household_id)
        .where(Alert.assigned_to_id == assistant.user.id, Alert.state == "assigned", Household.status == "active")
        .order_by(Alert.rule != CHECKED_RULE, Alert.id)
    ).first()
    if task is not None:
        payload = VisitIn(
            uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
            household_id=task.household_id,
            kind="adhoc",
            visited_at=now - timedelta(minutes=30),
            notes="入户核实预警：家庭收入已低于低保标准，已指导提出低保申请",
            alert_id=task.id,
            alert_outcome="dibao",
            alert_note="符合低保条件，已指导申请",
        )
        record_visit(session, assistant, payload, received_at=now)
        result.checked = 1
    name, seen = REPORT
    story = FieldReport(uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), name=name,
                        area_code=assistant.user.area_code, description=seen)  # fmt: skip
    result.candidates = int(field_report(session, assistant, story)[1])
    return result
