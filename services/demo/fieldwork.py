"""The demo villages' last few weeks of visits: checklists, self-checks, photos and needs, some already handled.

Everything goes through the services a phone's visit goes through (record_visit, add_photo, change_status),
so the household pages, the needs list and the audit trail read as they would after real work.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from models import Household, Need
from services.api.schemas import CheckItem, Location, NeedIn, VisitIn
from services.audit import Actor
from services.clock import CHINA
from services.demo.pictures import demo_photo
from services.registry.households import members_with_categories
from services.visits import needs as need_service
from services.visits.photos import add_photo
from services.visits.rules import CHECKLIST, PHOTO_CAPTIONS, self_checks_for
from services.visits.visits import record_visit

WEEKS = 3  # routine visits over the last three weeks
PHOTO_BUDGET = 26  # visit photos in all: enough to look lived-in, few enough to seed in a second
HOME = (23.96, 100.09)  # near 博尚镇, 临翔区: the demo households' homes lie around here
PROBLEMS = {  # a checklist item found wanting, as an assistant would note it
    "housing": "房屋后墙有裂缝，雨季漏雨",
    "water": "自来水管冻裂，现挑水吃",
    "food": "存粮只够半个月",
    "clothing": "缺少冬季被褥",
    "medical": "慢性病药快吃完，行动不便去不了卫生院",
    "school": "孩子上学路远，冬季早晚无人接送",
    "care": "白天家中无人照看",
}
NEEDS = (  # (type, what was asked for), in the order the demo raises them: every type shows up
    ("supplies", "缺米缺油，请求送些生活物资"),
    ("medical", "老人高血压、糖尿病，医药费负担重"),
    ("temporary_relief", "家中突遭变故，生活困难，申请临时救助"),
    ("housing", "住房漏雨，需要维修加固"),
    ("education", "孩子上初中，生活费有困难"),
    ("care", "独居老人，希望有人定期照看"),
    ("dibao", "家庭收入低，申请纳入低保"),
    ("temporary_relief", "因病住院花费大，申请临时救助"),
    ("institutional_care", "本人愿意到乡镇中心养老院集中供养"),
    ("counselling", "丧偶后情绪低落，需要心理疏导"),
    ("employment", "儿子返乡在家，希望介绍就近务工"),
    ("other", "残疾证到期，需要帮助换证"),
)
RESOLUTIONS = {  # how the township settled a need, for the ones the demo shows resolved
    "supplies": "已送去大米 50 斤、食用油 1 桶",
    "medical": "已落实医疗救助，办理门诊慢性病卡",
    "housing": "已列入农村危房改造计划",
    "education": "已申请教育资助，每学期 625 元",
    "care": "已签订委托照料协议，邻居每天照看",
    "dibao": "经审核已纳入低保，下月起发放",
    "institutional_care": "已办理入住乡镇中心养老院",
    "counselling": "已联系社工每周上门陪伴",
    "employment": "已推荐到镇上茶厂务工",
    "other": "已陪同到县残联换证",
}
NOTES = (
    "家中干净整洁，老人精神状态好",
    "已当面核实保障金到账情况",
    "邻居反映近期有亲戚来照看",
    "提醒按时服药，注意用火用电安全",
    "孩子在校表现良好，已与班主任联系",
    "天冷，已提醒添衣保暖",
)


@dataclass
class FieldWork:
    """What the demo's visits made, and the 临时救助 need of each household that raised one."""

    visits: int = 0
    photos: int = 0
    needs: int = 0
    relief_needs: dict[int, int] = field(default_factory=dict)


def seed_field_work(
    session: Session,
    rng: random.Random,
    rounds: list[tuple[Actor, list[Household]]],
    settler: Actor,
    folder: Path,
    today: date,
) -> FieldWork:
    """Visit each round's households as its assistant over the last weeks; the settler then handles some needs."""
    done = FieldWork()
    raised: list[Need] = []
    next_need = 0
    for actor, households in rounds:
        for position, household in enumerate(households):
            visits = 2 if position % 3 == 0 else 1  # some households were seen twice
            for n in range(visits):
                days_ago = rng.randint(1, WEEKS * 7) if n == 0 else rng.randint(WEEKS * 7 + 1, WEEKS * 7 + 14)
                need = NEEDS[next_need % len(NEEDS)] if n == 0 and position % 2 == 0 else None
                next_need += need is not None
                visit = _visit(session, rng, actor, household, today - timedelta(days=days_ago), need)
                done.visits += 1
                done.photos += _photos(session, rng, actor, visit, folder, budget=PHOTO_BUDGET - done.photos)
                found = list(session.exec(select(Need).where(Need.visit_id == visit.id).order_by(Need.id)))
                raised += found
                for item in found:
                    if item.type == "temporary_relief":
                        done.relief_needs.setdefault(household.id, item.id)
    done.needs = len(raised)
    _settle(session, settler, raised)
    return done


def _visit(session: Session, rng: random.Random, actor: Actor, household: Household, day: date, need):
    members = members_with_categories(session, household)
    categories = {c for _person, cats in members for c in cats}
    has_children = any(p.birth_date and (day - p.birth_date).days < 18 * 365 for p, _cats in members)
    checklist = {}
    for key in CHECKLIST:
        if key == "school" and not has_children:
            continue
        problem = rng.random() < 0.12
        checklist[key] = CheckItem(ok=not problem, note=PROBLEMS[key] if problem else None)
    self_checks = {key: rng.random() < 0.92 for key in self_checks_for(categories)}
    changes = ["hospitalised"] if rng.random() < 0.08 else []
    troubled = need is not None or changes or not all(item.ok for item in checklist.values())
    risk = "attention" if troubled else "normal"
    if troubled and rng.random() < 0.15:
        risk = "urgent"
    at = datetime(day.year, day.month, day.day, 9, tzinfo=CHINA) + timedelta(minutes=rng.randrange(8 * 60))
    lat, lon = _home(household)
    payload = VisitIn(
        uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        household_id=household.id,
        kind="routine" if rng.random() < 0.85 else "adhoc",
        visited_at=at,
        checklist=checklist,
        self_checks=self_checks,
        changes=changes,
        needs=[NeedIn(type=need[0], description=need[1])] if need else [],
        risk=risk,
        notes=rng.choice(NOTES),
        location=Location(lat=lat + rng.uniform(-2e-4, 2e-4), lon=lon + rng.uniform(-2e-4, 2e-4), accuracy=20),
    )
    # the demo's assistants were online: each visit reached the server the moment it was saved, weeks ago
    visit, _created = record_visit(session, actor, payload, received_at=at)
    return visit


def _home(household: Household) -> tuple[float, float]:
    """Return where the household lives: a point near the township, fixed by its village and number."""
    spot = random.Random(f"home:{household.area_code}:{household.household_no}")
    return HOME[0] + spot.uniform(-0.05, 0.05), HOME[1] + spot.uniform(-0.05, 0.05)


def _photos(session: Session, rng: random.Random, actor: Actor, visit, folder: Path, budget: int) -> int:
    """Add one or two photos to most visits while the budget lasts; return how many."""
    count = min(budget, rng.choice((0, 1, 1, 1, 2)))
    for caption in rng.sample(PHOTO_CAPTIONS, count):
        image = demo_photo(rng, caption)
        photo_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        add_photo(session, actor, visit, uuid=photo_uuid, caption=caption, data=image, folder=folder)
    return count


def _settle(session: Session, settler: Actor, raised: list[Need]) -> None:
    """Take some needs in hand and resolve others, as the township would after the visits."""
    for position, need in enumerate(raised):
        if need.type in ("temporary_relief", "review"):
            continue  # relief needs are followed by their applications; reviews wait for the township
        if position % 3 == 1:
            need_service.change_status(session, settler, need, "in_progress", "已安排专人跟进")
        elif position % 3 == 2 and need.type in RESOLUTIONS:
            need_service.change_status(session, settler, need, "resolved", RESOLUTIONS[need.type])
