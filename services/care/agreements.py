"""Care agreements as records: who cares for whom, their duties, the dates, the photos of the signed paper.

Household.care_agreement_signed follows the records (true while the household holds a valid agreement), so the
coverage counts that read the flag keep working. A household with no agreement record keeps the flag it had.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, update
from sqlmodel import Session, select

from models import CareAgreement, CareAgreementPhoto, Household, Person, User, utcnow
from services import audit
from services.audit import Actor
from services.clock import today_in_china
from services.errors import Invalid, NotFound
from services.inputs import is_row_id, name_problem, small_int, text_problem
from services.permissions import require
from services.registry.households import get_household_for
from services.registry.phones import PHONE_MESSAGE, is_phone_number, normal_phone
from services.visits.photos import store

KINDS = {"tekun": "三方委托照料服务协议", "child": "留守儿童委托监护责任确认书"}
KIND_FOR_CATEGORY = {"tekun_dispersed": "tekun", "left_behind_child": "child"}
STATUSES = {"active": "有效", "ended": "已终止"}
RELATIONS = ("子女", "配偶", "兄弟姐妹", "祖父母", "外祖父母", "其他亲属", "邻居", "村干部", "其他")
DEFAULT_DUTIES = {
    "tekun": (
        "平日有人照应：每天至少探望或电话联系一次，了解吃饭、穿衣、居住情况",
        "生病有人看护：生病时及时送医、陪护，并告知村（社区）和乡镇",
        "协助打扫卫生、换洗衣被，留意用火、用电安全，防止跌倒",
        "协助领取、管理特困供养金，不挪用、不侵占",
        "发现异常情况，及时报告村协理员或乡镇民政",
    ),
    "child": (
        "保障儿童的饮食、衣着、住宿和人身安全",
        "督促儿童按时上学，不辍学",
        "儿童生病时及时就医、看护",
        "每周至少与儿童父母联系一次，报告儿童情况",
        "发现异常情况，及时报告村（社区）儿童主任或乡镇",
    ),
}
DEFAULT_YEARS = 1
MAX_DUTIES_CHARS = 2000
MAX_DUTY_LINES = 20
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
MAX_PHOTOS = 9


def _township(area_code: str) -> str:
    return area_code[:9] + "000"


def default_duties(kind: str) -> str:
    """Return a kind's default duties, one a line."""
    return "\n".join(DEFAULT_DUTIES.get(kind, DEFAULT_DUTIES["tekun"]))


# ---- reading -------------------------------------------------------------------------------


def is_valid(agreement: CareAgreement, today: date) -> bool:
    """Tell whether an agreement is in force: active, signed, and not past its valid-until date."""
    return (
        agreement.status == "active"
        and agreement.signed_on is not None
        and agreement.valid_until is not None
        and agreement.valid_until >= today
    )


def valid_clause(today: date):
    """Return the WHERE clause of agreements in force on a day (the same test as is_valid, set-based)."""
    return and_(
        CareAgreement.status == "active",
        CareAgreement.signed_on.is_not(None),
        CareAgreement.valid_until >= today,
    )


@dataclass
class AgreementRow:
    """What the household page shows of one agreement."""

    agreement: CareAgreement
    person_name: str
    valid: bool
    photos: int


def for_household(session: Session, household: Household, today: date | None = None) -> list[AgreementRow]:
    """Return the household's agreements, newest first, with the cared-for person's name (three queries)."""
    today = today or today_in_china()
    query = select(CareAgreement).where(CareAgreement.household_id == household.id)
    agreements = list(session.exec(query.order_by(CareAgreement.created_at.desc(), CareAgreement.id.desc())))
    if not agreements:
        return []
    query = select(Person.id, Person.name).where(Person.id.in_({a.person_id for a in agreements}))
    names = dict(session.exec(query).all())
    counts: dict[int, int] = {}
    ids = [a.id for a in agreements]
    for agreement_id in session.exec(
        select(CareAgreementPhoto.agreement_id).where(CareAgreementPhoto.agreement_id.in_(ids))
    ):
        counts[agreement_id] = counts.get(agreement_id, 0) + 1
    return [AgreementRow(a, names.get(a.person_id, ""), is_valid(a, today), counts.get(a.id, 0)) for a in agreements]


def get_agreement_for(session: Session, user: User, household_id: int, agreement_id: int) -> CareAgreement:
    """Return an agreement of a household in the user's scope; otherwise 404 (also when the two do not match)."""
    household = get_household_for(session, user, household_id)
    agreement = session.get(CareAgreement, agreement_id) if is_row_id(agreement_id) else None
    if agreement is None or agreement.household_id != household.id:
        raise NotFound()
    return agreement


def photos_of(session: Session, agreement: CareAgreement) -> list[CareAgreementPhoto]:
    """Return the photos of an agreement's signed paper, oldest first."""
    query = select(CareAgreementPhoto).where(CareAgreementPhoto.agreement_id == agreement.id)
    return list(session.exec(query.order_by(CareAgreementPhoto.id)))


def get_photo_for(session: Session, user: User, photo_id: int) -> CareAgreementPhoto:
    """Return a photo of a signed agreement whose household lies in the user's scope; otherwise 404."""
    photo = session.get(CareAgreementPhoto, photo_id) if is_row_id(photo_id) else None
    if photo is None:
        raise NotFound()
    get_household_for(session, user, photo.household_id)
    return photo


# ---- writing -------------------------------------------------------------------------------


def _date(form: Mapping, name: str, label: str, errors: dict) -> date | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 and text.isascii() else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        errors[name] = f"{label}请按“年-月-日”填写，2000 年到 2100 年之间"
        return None
    return day


def parse_form(session: Session, household: Household, form: Mapping) -> dict:
    """Validate an agreement form; raise Invalid listing what is wrong."""
    errors = {}
    person_id = small_int(form.get("person_id"))
    person = session.get(Person, person_id) if is_row_id(person_id) else None
    if person is None or person.household_id != household.id:
        errors["person_id"] = "请选择这户的被照料人"
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        errors["kind"] = "请选择协议类型"
    carer_name = str(form.get("carer_name", "")).strip()
    if problem := name_problem(carer_name, "照料人（监护人）姓名"):
        errors["carer_name"] = problem
    carer_phone = normal_phone(form.get("carer_phone"))
    if not carer_phone:
        errors["carer_phone"] = "请填写照料人（监护人）的电话"
    elif not is_phone_number(carer_phone):
        errors["carer_phone"] = PHONE_MESSAGE
    carer_relation = str(form.get("carer_relation", "")).strip()
    if carer_relation not in RELATIONS:
        errors["carer_relation"] = "请选择照料人与被照料人的关系"
    duties = "\n".join(line.strip() for line in str(form.get("duties", "")).splitlines() if line.strip())
    if kind in KINDS and duties in {default_duties(other) for other in KINDS if other != kind}:
        duties = default_duties(kind)  # the kind was changed on a form still holding the other kind's defaults
    if not duties:
        errors["duties"] = "请写明照料人的职责（每行一条）"
    elif len(duties) > MAX_DUTIES_CHARS or duties.count("\n") >= MAX_DUTY_LINES:
        errors["duties"] = f"职责最多 {MAX_DUTY_LINES} 条、{MAX_DUTIES_CHARS} 字"
    elif problem := text_problem(duties, "职责"):
        errors["duties"] = problem
    signed_on = _date(form, "signed_on", "签订日期", errors)
    valid_until = _date(form, "valid_until", "有效期至", errors)
    if signed_on and signed_on > today_in_china():
        errors["signed_on"] = "签订日期不能晚于今天"
    if signed_on and not valid_until and "valid_until" not in errors:
        errors["valid_until"] = "已签订的协议请填写有效期"
    if signed_on and valid_until and valid_until <= signed_on:
        errors["valid_until"] = "有效期应晚于签订日期"
    if errors:
        raise Invalid(errors)
    return {
        "person_id": person.id,
        "kind": kind,
        "carer_name": carer_name,
        "carer_phone": carer_phone,
        "carer_relation": carer_relation,
        "duties": duties,
        "signed_on": signed_on,
        "valid_until": valid_until,
    }


def add_agreement(session: Session, actor: Actor, household: Household, data: dict) -> CareAgreement:
    """Record an agreement (signed, or to be printed blank-dated and signed) and keep the household's flag."""
    require(actor.user, "care.record", message="只有本村协理员和乡镇经办员可以登记照料协议")
    agreement = CareAgreement(
        household_id=household.id, area_code=_township(household.area_code), created_by_id=actor.user.id, **data
    )
    session.add(agreement)
    session.flush()
    sync_flag(session, household)
    audit.record(session, actor, "care.agreement_created", agreement, household_id=household.id, kind=agreement.kind)
    return agreement


def update_agreement(session: Session, actor: Actor, household: Household, agreement: CareAgreement, data: dict):
    """Change an agreement (say, the dates once it is signed) and keep the household's flag."""
    require(actor.user, "care.record", message="只有本村协理员和乡镇经办员可以修改照料协议")
    if agreement.status != "active":
        raise Invalid("已终止的协议不能再修改，请新登记一份")
    changed = sorted(k for k, v in data.items() if getattr(agreement, k) != v)
    for key, value in data.items():
        setattr(agreement, key, value)
    agreement.updated_at = utcnow()
    session.add(agreement)
    session.flush()
    sync_flag(session, household)
    audit.record(session, actor, "care.agreement_updated", agreement, household_id=household.id, fields=changed)


def end_agreement(session: Session, actor: Actor, household: Household, agreement: CareAgreement) -> None:
    """End an agreement (the carer stopped, the person moved or died) and keep the household's flag."""
    require(actor.user, "care.record", message="只有本村协理员和乡镇经办员可以终止照料协议")
    if agreement.status == "ended":
        return
    agreement.status, agreement.ended_on, agreement.updated_at = "ended", today_in_china(), utcnow()
    session.add(agreement)
    session.flush()
    sync_flag(session, household)
    audit.record(session, actor, "care.agreement_ended", agreement, household_id=household.id)


def sync_flag(session: Session, household: Household, today: date | None = None) -> None:
    """Set Household.care_agreement_signed from the household's agreements: true while one is valid."""
    today = today or today_in_china()
    query = select(CareAgreement.id).where(CareAgreement.household_id == household.id, valid_clause(today))
    signed = session.exec(query.limit(1)).first() is not None
    if household.care_agreement_signed != signed:
        household.care_agreement_signed = signed
        session.add(household)


def refresh_flags(session: Session, today: date) -> None:
    """Bring every household's flag in line with its agreements (one expired since yesterday clears it).

    Only households with at least one agreement record: one with none keeps the flag typed before records existed.
    """
    has_any = exists().where(CareAgreement.household_id == Household.id)
    has_valid = exists().where(CareAgreement.household_id == Household.id, valid_clause(today))
    for value, condition in ((False, ~has_valid), (True, has_valid)):
        statement = (
            update(Household)
            .where(has_any, condition, Household.care_agreement_signed.is_(not value))
            .values(care_agreement_signed=value)
            .execution_options(synchronize_session=False)
        )
        session.execute(statement)


def add_photo(
    session: Session, actor: Actor, agreement: CareAgreement, *, uuid: str, data: bytes, folder: Path
) -> tuple[CareAgreementPhoto, bool]:
    """Store a photo of the signed paper; return (photo, created). A replayed UUID answers the stored one."""
    require(actor.user, "care.record", message="只有本村协理员和乡镇经办员可以上传协议照片")
    existing = session.exec(select(CareAgreementPhoto.id).where(CareAgreementPhoto.uuid == uuid)).first()
    if existing is None and len(photos_of(session, agreement)) >= MAX_PHOTOS:
        raise Invalid(f"每份协议最多 {MAX_PHOTOS} 张照片")
    owner = {"agreement_id": agreement.id, "household_id": agreement.household_id}
    photo, created = store(
        session, CareAgreementPhoto, owner, uuid=uuid, caption="协议", data=data, folder=folder, actor=actor
    )
    if created:
        audit.record(session, actor, "care.photo_added", photo, agreement_id=agreement.id, bytes=photo.size_bytes)
    return photo, created


def suggested_dates(today: date | None = None) -> tuple[date, date]:
    """Return a new agreement's suggested dates: signed today, valid for a year."""
    today = today or today_in_china()
    try:
        until = today.replace(year=today.year + DEFAULT_YEARS) - timedelta(days=1)
    except ValueError:  # 29 February
        until = today.replace(year=today.year + DEFAULT_YEARS, day=28)
    return today, until
