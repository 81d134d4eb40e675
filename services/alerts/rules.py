"""主动发现 rules: each a small function over the whole city's data, listed in one table (RULES).

A rule is `(session, ctx) -> iterable of Hit`: it reads the city set-based (a few queries, never one per household)
and names each subject it found — a household, a person or a candidate — with its village and a reason in Chinese.
Dates are worked out in Python and handed to the queries as values, because SQLite and PostgreSQL disagree on date
functions. services/alerts/engine.py runs the enabled rules and turns hits into alerts (one open alert per rule and
subject). The city changes a rule's days and threshold, or switches it off, with an AlertRule row.

"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import Household, Need, Person, PersonCategory, Visit
from services.alerts.base import (
    ALONE_MUST_VISIT,
    MUST_VISIT_CATEGORIES,
    RELIEF_NEED_DAYS,
    RELIEF_NEED_TYPE,
    UNRESOLVED_NEEDS,
    Context,
    Hit,
    Rule,
    _alone,
    _day,
)
from services.alerts.care_rules import (
    care_agreement_expiring,
    care_agreement_missing,
    care_duties_not_kept,
    institution_wish_waiting,
)
from services.alerts.money_age_care import (
    correction_overdue,
    elderly_without_allowance,
    failed_not_reissued,
    family_says_unpaid,
    orphan_turning_18,
    paid_after_exit,
    severe_disability_without_care,
)
from services.alerts.signal_rules import (
    signal_death,
    signal_disability,
    signal_medical,
    signal_medical_unregistered,
    signal_unemployment,
)
from services.clock import china_date
from services.registry.categories import label
from services.visits.schedule import frequencies, interval_days


def urgent_no_follow_up(session: Session, ctx: Context) -> Iterable[Hit]:
    """A visit marked 紧急, older than the threshold, with no later visit of the household."""
    later = aliased(Visit)
    query = (
        select(Visit.household_id, Household.area_code, Visit.visited_at)
        .join(Household, Household.id == Visit.household_id)
        .where(
            Visit.risk == "urgent",
            Visit.visited_at <= ctx.ago(ctx.threshold),
            Household.status == "active",
            ~exists().where(later.household_id == Visit.household_id, later.visited_at > Visit.visited_at),
        )
    )
    for household_id, area_code, visited_at in session.exec(query):
        reason = f"{_day(visited_at)} 走访标记为紧急，{ctx.threshold} 天内没有再次走访"
        yield Hit(area_code, reason, household_id=household_id)


def need_open_too_long(session: Session, ctx: Context) -> Iterable[Hit]:
    """A need not resolved past its type's limit: 临时救助 7 days (the threshold if smaller), others the threshold."""
    relief_days = min(RELIEF_NEED_DAYS, ctx.threshold)
    late = or_(
        and_(Need.type == RELIEF_NEED_TYPE, Need.created_at < ctx.ago(relief_days)),
        and_(Need.type != RELIEF_NEED_TYPE, Need.created_at < ctx.ago(ctx.threshold)),
    )
    query = (
        select(Need.household_id, Household.area_code, Need.type, Need.created_at)
        .join(Household, Household.id == Need.household_id)
        .where(Need.status.in_(UNRESOLVED_NEEDS), Household.status == "active", late)
        .order_by(Need.household_id, Need.created_at)
    )
    seen = set()
    for household_id, area_code, need_type, created_at in session.exec(query):
        if household_id in seen:  # the oldest need speaks for the household
            continue
        seen.add(household_id)
        days = (ctx.today - china_date(created_at)).days
        name = "临时救助" if need_type == RELIEF_NEED_TYPE else "诉求"
        yield Hit(area_code, f"{name}于 {_day(created_at)} 提出，{days} 天仍未解决", household_id=household_id)


# ---- overdue visits ------------------------------------------------------------------------


def must_visit_overdue(session: Session, ctx: Context) -> Iterable[Hit]:
    """An 八必访 household past its routine interval (services/visits/schedule.py), or never visited that long."""
    alone = _alone(session, ctx)
    categories = defaultdict(set)
    query = (
        select(Person.household_id, PersonCategory.category)
        .distinct()
        .join(PersonCategory, PersonCategory.person_id == Person.id)
        .join(Household, Household.id == Person.household_id)
        .where(Household.status == "active", Household.kind == "family")
    )
    for household_id, category in session.exec(query):
        categories[household_id].add(category)
    must = {
        hid
        for hid, cats in categories.items()
        if cats.intersection(MUST_VISIT_CATEGORIES) or (ALONE_MUST_VISIT in cats and hid in alone)
    }
    if not must:
        return
    days = frequencies(session)
    households = select(
        Household.id, Household.area_code, Household.last_visit_at, Household.last_risk, Household.created_at
    ).where(Household.status == "active", Household.kind == "family")
    for household_id, area_code, last_visit_at, last_risk, created_at in session.exec(households):
        if household_id not in must:
            continue
        interval = interval_days(days, categories[household_id], last_risk)
        since = last_visit_at or created_at
        due = china_date(since + timedelta(days=interval))
        if due >= ctx.today:
            continue
        kinds = "、".join(label(c) for c in sorted(categories[household_id]) if c in MUST_VISIT_CATEGORIES)
        kinds = kinds or f"{label(ALONE_MUST_VISIT)}（独居）"
        late = (ctx.today - due).days
        if last_visit_at:
            reason = f"{kinds}，应每 {interval} 天走访，上次 {_day(last_visit_at)}，已逾期 {late} 天"
        else:
            reason = f"{kinds}，应每 {interval} 天走访，登记后从未走访，已逾期 {late} 天"
        yield Hit(area_code, reason, household_id=household_id)


def alone_no_contact_90(session: Session, ctx: Context) -> Iterable[Hit]:
    """A household of one person with no visit for the threshold's days (never visited: registered that long ago)."""
    alone = _alone(session, ctx)
    cutoff = ctx.ago(ctx.threshold)
    quiet = or_(
        Household.last_visit_at < cutoff, and_(Household.last_visit_at.is_(None), Household.created_at < cutoff)
    )
    query = select(Household.id, Household.area_code, Household.last_visit_at).where(
        Household.status == "active", Household.kind == "family", quiet
    )
    for household_id, area_code, last_visit_at in session.exec(query):
        if household_id not in alone:
            continue
        seen = f"上次走访 {_day(last_visit_at)}" if last_visit_at else "登记后从未走访"
        yield Hit(area_code, f"独居，{ctx.threshold} 天以上无人走访（{seen}）", household_id=household_id)


# ---- money (整改 items of services/payouts) ----------------------------------------------------


_RULES = (
    Rule(
        "urgent_no_follow_up", "red", 2, 2, "紧急情况未跟进",
        "走访时标记为紧急，之后若干天（阈值）内没有再次走访该户。",
        urgent_no_follow_up,
    ),
    Rule(
        "need_open_too_long", "orange", 7, 30, "诉求长期未解决",
        "走访中提出的诉求超过期限仍未解决：临时救助 7 天，其他诉求按阈值（默认 30 天）。",
        need_open_too_long,
    ),
    Rule(
        "must_visit_overdue", "red", 3, None, "八必访对象走访逾期",
        "分散供养特困（独居）、孤寡老人、重病重残、孤儿、事实无人抚养、困境儿童所在户，超过走访频次设置的间隔没有走访"
        "（从未走访的，从登记时算起）。",
        must_visit_overdue,
    ),
    Rule(
        "alone_no_contact_90", "red", 3, 90, "独居无人联系",
        "只有一名成员的户，超过阈值天数（默认 90 天）没有任何走访（从未走访的，从登记时算起）。",
        alone_no_contact_90,
    ),
    Rule(
        "failed_not_reissued", "orange", 7, 15, "发放失败未补发",
        "银行结果为发放失败的整改事项，发现后超过阈值天数（默认 15 天）仍未办结。",
        failed_not_reissued,
    ),
    Rule(
        "paid_after_exit", "red", 7, None, "退出后仍发放",
        "户已退出（或人已去世）后仍有发放记录，整改事项尚未办结。",
        paid_after_exit,
    ),
    Rule(
        "correction_overdue", "orange", 7, None, "整改逾期",
        "整改事项超过整改期限仍未办结。",
        correction_overdue,
    ),
    Rule(
        "family_says_unpaid", "orange", 7, None, "银行已发放但家人说没收到",
        "银行结果为已发放，走访时家人说没有收到，整改事项尚未办结。",
        family_says_unpaid,
    ),
    Rule(
        "orphan_turning_18", "yellow", 30, 60, "孤儿即将年满 18 岁",
        "孤儿、事实无人抚养儿童在阈值天数（默认 60 天）内年满 18 岁，保障政策将变化，需提前衔接。",
        orphan_turning_18,
    ),
    Rule(
        "elderly_without_allowance", "yellow", 30, None, "高龄老人未领高龄补贴",
        "年满 80 岁的人员，本年度没有已发放的高龄补贴记录。只核对本年度导入过高龄补贴发放结果的县（区）："
        "没有导入的县无从判断，不提示。",
        elderly_without_allowance,
    ),
    Rule(
        "severe_disability_without_care", "yellow", 30, None, "重度残疾未领护理补贴",
        "残疾等级为一级或二级的人员，近 3 个月没有已发放的重度残疾人护理补贴记录。只核对这段时间导入过护理补贴"
        "发放结果的县（区）：没有导入的县无从判断，不提示。",
        severe_disability_without_care,
    ),
    Rule(
        "care_agreement_missing", "orange", 15, None, "未签委托照料协议",
        "分散供养特困人员或留守儿童没有有效的三方委托照料服务协议（留守儿童委托监护责任确认书）：没有登记协议，"
        "或协议未签订、已终止、已过有效期。依据住户页“照料协议”里登记的协议。",
        care_agreement_missing,
    ),
    Rule(
        "care_agreement_expiring", "yellow", 30, 30, "照料协议即将到期",
        "有效的照料协议在阈值天数（默认 30 天）内到期，且本人没有更晚到期的协议：提醒续签。",
        care_agreement_expiring,
    ),
    Rule(
        "care_duties_not_kept", "orange", 7, None, "照料人未尽责",
        "这户最近一次走访回答照料人没有尽责（平日有人照应、生病有人看护）。走访保存时立即提示。",
        care_duties_not_kept,
    ),
    Rule(
        "institution_wish_waiting", "orange", 15, 30, "集中供养申请久未办理",
        "集中供养申请提出后超过阈值天数（默认 30 天）仍未安置，也未作出不予安置的决定。",
        institution_wish_waiting,
    ),
    # lists from other departments (services/signals, services/alerts/signal_rules.py)
    Rule(
        "signal_medical", "orange", 7, 6000, "住院自付费用高",
        "医保名单上在册人员一次住院个人自付超过阈值（默认 6000 元）：看看是否需要临时救助或纳入低保。",
        signal_medical,
        unit="元",
    ),
    Rule(
        "signal_medical_unregistered", "orange", 7, 10000, "未在册人员住院自付费用高",
        "医保名单上不在册的人个人自付超过阈值（默认 10000 元）时成为待核实对象，由乡镇核实（不另发预警）。",
        signal_medical_unregistered,
        unit="元",
    ),
    Rule(
        "signal_disability", "yellow", 15, None, "新增重度残疾",
        "残联名单上在册人员新评为一级或二级残疾（导入时同时更新残疾等级）：看看护理补贴和照料。",
        signal_disability,
    ),
    Rule(
        "signal_death", "red", 3, None, "在册人员去世",
        "卫健、公安死亡名单上的在册人员：导入时已标记去世、停发补贴（户内人员全部去世的户退出），请乡镇核实。",
        signal_death,
    ),
    Rule(
        "signal_unemployment", "yellow", 15, None, "低保边缘家庭成员失业",
        "人社失业登记名单上的在册人员，所在户是低保边缘家庭：看看家庭收入是否已符合低保。",
        signal_unemployment,
    ),
)  # fmt: skip
RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
GRADE_LABELS = {"red": "红", "orange": "橙", "yellow": "黄"}
