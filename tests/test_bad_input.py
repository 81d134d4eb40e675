"""A catalogue of bad input across forms, the JSON API and imports: every one is refused with a 4xx, says why
in Chinese, and changes nothing (row counts of the main tables and the household it aimed at stay as they were).

Each case names who sends it, what, and a few words of the Chinese message it must get back.
"""

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import uuid4

import pytest
from sqlmodel import func, select

from models import (
    Campaign,
    Card,
    CardScan,
    Household,
    Need,
    Person,
    PersonCategory,
    Photo,
    ReliefApplication,
    ReliefEvent,
    TownshipFund,
    User,
    Visit,
    VisitFrequency,
    WorkReport,
    utcnow,
)
from tests.conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, add_need, add_relief, login

# Audit events are left out on purpose: a failed login is recorded, and that is the point of recording it.
COUNTED = (
    Campaign,
    Card,
    CardScan,
    Household,
    Need,
    Person,
    PersonCategory,
    Photo,
    ReliefApplication,
    ReliefEvent,
    TownshipFund,
    User,
    Visit,
    VisitFrequency,
    WorkReport,
)
HUGE = "99999999999999999999"  # 20 digits: past 64 bits, where SQLite overflows
PAST_32_BITS = str(2**31)  # past PostgreSQL's INTEGER, the type of every id and version column
CHINESE = re.compile(r"[\u4e00-\u9fff]{2,}")
BOUNDARY = "doudi-test-boundary"


def nameless_part(*named: tuple[str, str]) -> bytes:
    """Return a multipart body whose first part has no name (as a broken client sends), then named fields."""
    parts = [f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nwho am I\r\n".encode()]
    for name, value in named:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@dataclass(frozen=True)
class Bad:
    """One bad request: who sends it (a world user, or None), where, with what, and what the answer must say."""

    name: str
    who: str | None
    method: str
    path: str  # {household}, {person}, {relief}, {need}, {campaign}, {visit} are filled from the arranged data
    says: str  # words of the Chinese message the answer must contain
    form: dict | None = None
    json: object = None
    body: bytes | None = None  # sent as is, with content_type
    content_type: str | None = None
    files: dict = field(default_factory=dict)  # name -> (bytes, filename), sent multipart with form
    csrf: bool = False  # on an app with CSRF checks on, as in real use


def visit(**changes) -> dict:
    """A valid visit for household A, changed by the case."""
    return {"uuid": str(uuid4()), "household_id": "{household}", "kind": "routine", **changes}


def relief(**changes) -> dict:
    """A valid relief application for household A's head, changed by the case."""
    base = {
        "uuid": str(uuid4()),
        "household_id": "{household}",
        "person_id": "{person}",
        "reason": "sudden_illness",
        "circumstances": "住院花了很多钱",
        "amount_yuan": "600",
        "payment_form": "card",
    }
    return {**base, **changes}


def member(**changes) -> dict:
    """A valid new member's form, changed by the case."""
    return {"name": "张小红", "relation": "女", "id_number": "", "phone": "", "disability_grade": "", **changes}


def household_form(**changes) -> dict:
    """A valid household edit form for household A, changed by the case."""
    return {"area_code": VILLAGE_A, "kind": "family", "address": "碗窑村 3 组", "phone": "13900000001", **changes}


def new_household(**changes) -> dict:
    """A valid form registering a household with its head, changed by the case."""
    return {**household_form(phone=""), "name": "李新户", "id_number": "", "phone_head": "", **changes}


def fund(**changes) -> dict:
    return {"limit_yuan": "3000", "reserve_yuan": "20000", "paperwork_days": "30", **changes}


def frequencies(**changes) -> dict:
    return {"urgent": "7", "default": "90", **changes}


def campaign_form(**changes) -> dict:
    return {"name": "春季排查", "start_date": "2026-03-01", "end_date": "2026-03-10", **changes}


def relief_form(**changes) -> dict:
    base = {
        "uuid": str(uuid4()),
        "person_id": "{person}",
        "reason": "sudden_illness",
        "circumstances": "住院",
        "amount_yuan": "600",
        "payment_form": "card",
    }
    return {**base, **changes}


PHOTO_PATH = "/api/v1/visits/{visit}/photos"
FUND_PATH = f"/relief/overview/funds/{TOWNSHIP}"

CASES = [
    # ---- numbers: Unicode digits and integers past 64 bits, in paths, queries and forms
    Bad("path id past 64 bits", "assistant_a", "GET", f"/households/{HUGE}", "没有找到"),
    Bad("path id past 32 bits", "assistant_a", "GET", f"/households/{PAST_32_BITS}/edit", "没有找到"),
    Bad("API path id past 32 bits", "township", "GET", f"/api/v1/relief/{PAST_32_BITS}", "没有找到"),
    Bad("?campaign= past 32 bits", "county", "GET", f"/coverage/breakdown?campaign={PAST_32_BITS}", "没有找到"),
    Bad(
        "JSON household_id past 32 bits",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "住户超出范围",
        json=visit(household_id=2**31),
    ),
    Bad(
        "work report version past 32 bits",
        "county",
        "POST",
        "/reports/work/{campaign}/" + COUNTY,
        "请刷新",
        form={"action": "save", "version": PAST_32_BITS},
    ),
    Bad("path id in Arabic-Indic digits", "assistant_a", "GET", "/households/\u0661", "没有找到"),
    Bad("photo id past 64 bits", "assistant_a", "GET", f"/photos/{HUGE}.jpg", "没有找到"),
    Bad("relief photo id past 64 bits", "assistant_a", "GET", f"/photos/relief/{HUGE}_t.jpg", "没有找到"),
    Bad("API household id past 64 bits", "assistant_a", "GET", f"/api/v1/households/{HUGE}", "没有找到"),
    Bad("API relief id past 64 bits", "township", "GET", f"/api/v1/relief/{HUGE}", "没有找到"),
    Bad("user id past 64 bits", "county", "GET", f"/users/{HUGE}", "没有找到"),
    Bad("need id past 64 bits", "assistant_a", "GET", f"/needs/{HUGE}", "没有找到"),
    Bad("?household= past 64 bits", "assistant_a", "GET", f"/relief/new?household={HUGE}", "没有找到"),
    Bad("?need= past 64 bits", "assistant_a", "GET", "/relief/new?household={household}&need=" + HUGE, "没有找到"),
    Bad("?campaign= superscript two", "county", "GET", "/coverage/?campaign=²", "没有找到"),
    Bad("?campaign= past 64 bits", "county", "GET", f"/coverage/missing?campaign={HUGE}", "没有找到"),
    Bad("API ?campaign= superscript two", "county", "GET", "/api/v1/coverage?campaign=²", "没有找到"),
    Bad("statistics ?campaign= past 64 bits", "county", "GET", f"/reports/statistics.xlsx?campaign={HUGE}", "没有找到"),
    Bad(
        "assistant_id superscript two",
        "township",
        "POST",
        "/households/{household}/edit",
        "请选择本村的协理员",
        form=household_form(assistant_id="²"),
    ),
    Bad(
        "assistant_id past 64 bits",
        "township",
        "POST",
        "/households/{household}/edit",
        "请选择本村的协理员",
        form=household_form(assistant_id=HUGE),
    ),
    Bad("paperwork_days superscript", "county", "POST", FUND_PATH, "补材料期限", form=fund(paperwork_days="³")),
    Bad("paperwork_days past 64 bits", "county", "POST", FUND_PATH, "补材料期限", form=fund(paperwork_days=HUGE)),
    Bad("paperwork_days negative", "county", "POST", FUND_PATH, "补材料期限", form=fund(paperwork_days="-5")),
    Bad("reserve negative", "county", "POST", FUND_PATH, "备用金：金额必须大于 0", form=fund(reserve_yuan="-100")),
    Bad("limit not a number", "county", "POST", FUND_PATH, "审批额度", form=fund(limit_yuan="很多")),
    Bad("frequency superscript", "city", "POST", "/settings/visit-frequencies", "天数", form=frequencies(urgent="²")),
    Bad(
        "frequency past 64 bits", "city", "POST", "/settings/visit-frequencies", "天数", form=frequencies(default=HUGE)
    ),
    Bad(
        "decision version superscript",
        "township",
        "POST",
        "/relief/{relief}/decisions",
        "页面已过期",
        form={"action": "approve", "version": "²", "amount_yuan": "100"},
    ),
    Bad(
        "decision version past 64 bits",
        "township",
        "POST",
        "/relief/{relief}/decisions",
        "页面已过期",
        form={"action": "approve", "version": HUGE, "amount_yuan": "100"},
    ),
    Bad(
        "work report version superscript",
        "county",
        "POST",
        "/reports/work/{campaign}/" + COUNTY,
        "请刷新",
        form={"action": "save", "version": "²"},
    ),
    Bad(
        "relief form person superscript",
        "assistant_a",
        "POST",
        "/relief/new?household={household}",
        "家庭成员",
        form=relief_form(person_id="²"),
    ),
    # ---- the JSON API: ids past 64 bits, wrong types, missing fields, bad dates, NUL, over-long text
    Bad(
        "JSON household_id past 64 bits",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "住户超出范围",
        json=visit(household_id=2**64),
    ),
    Bad("JSON household_id zero", "assistant_a", "POST", "/api/v1/visits", "住户超出范围", json=visit(household_id=0)),
    Bad(
        "JSON scan_id past 64 bits",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "扫码记录超出范围",
        json=visit(scan_id=2**63),
    ),
    Bad(
        "JSON person_id past 64 bits",
        "assistant_a",
        "POST",
        "/api/v1/relief",
        "困难人员超出范围",
        json=relief(person_id=2**64),
    ),
    Bad(
        "JSON need_id past 64 bits", "assistant_a", "POST", "/api/v1/relief", "诉求超出范围", json=relief(need_id=2**70)
    ),
    Bad(
        "JSON version past 64 bits",
        "township",
        "POST",
        "/api/v1/relief/{relief}/decisions",
        "版本号超出范围",
        json={"action": "approve", "version": 2**64},
    ),
    Bad(
        "JSON household_id a word",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "住户的格式不对",
        json=visit(household_id="张明华"),
    ),
    Bad("JSON kind unknown", "assistant_a", "POST", "/api/v1/visits", "走访类型的选项不对", json=visit(kind="picnic")),
    Bad("JSON missing fields", "assistant_a", "POST", "/api/v1/visits", "请填写走访编号", json={}),
    Bad("JSON a list", "assistant_a", "POST", "/api/v1/visits", "应是一个 JSON 对象", json=[1, 2]),
    Bad(
        "JSON not JSON",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "请填写走访编号",
        body=b"{not json",
        content_type="application/json",
    ),
    Bad("JSON unknown field", "assistant_a", "POST", "/api/v1/relief", "不认识的字段", json=relief(bonus=True)),
    Bad("JSON NUL in notes", "assistant_a", "POST", "/api/v1/visits", "空字符", json=visit(notes="独居\x00老人")),
    Bad(
        "JSON notes over 2000",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "备注最多 2000 个字",
        json=visit(notes="很" * 2001),
    ),
    Bad(
        "JSON need with a blank description",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "请填写说明",
        json=visit(needs=[{"type": "medical", "description": "   "}]),
    ),
    Bad(
        "JSON checklist problem without a note",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "请简单写明情况",
        json=visit(checklist={"water": {"ok": False}}),
    ),
    Bad(
        "JSON visit in 1999",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "不能早于 2000 年",
        json=visit(visited_at="1999-12-31T23:00:00+08:00"),
    ),
    Bad(
        "JSON visit next year",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "不能晚于现在",
        json=visit(visited_at=f"{date.today().year + 1}-01-01T10:00:00+08:00"),
    ),
    Bad(
        "JSON visit time without a time zone",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "走访时间的格式不对",
        json=visit(visited_at="2026-01-01T10:00:00"),
    ),
    Bad(
        "JSON visit date not a date",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "走访时间的格式不对",
        json=visit(visited_at="昨天下午"),
    ),
    Bad(
        "JSON latitude past 90",
        "assistant_a",
        "POST",
        "/api/v1/visits",
        "定位超出范围",
        json=visit(location={"lat": 91, "lon": 100}),
    ),
    Bad(
        "JSON negative amount", "assistant_a", "POST", "/api/v1/relief", "金额必须大于 0", json=relief(amount_yuan="-5")
    ),
    Bad("JSON amount a word", "assistant_a", "POST", "/api/v1/relief", "金额格式不对", json=relief(amount_yuan="六百")),
    Bad(
        "JSON amount past a million",
        "assistant_a",
        "POST",
        "/api/v1/relief",
        "不能超过 100 万",
        json=relief(amount_yuan="2000000"),
    ),
    Bad(
        "JSON NUL in circumstances",
        "assistant_a",
        "POST",
        "/api/v1/relief",
        "空字符",
        json=relief(circumstances="住院\x00"),
    ),
    Bad(
        "JSON decision action unknown",
        "township",
        "POST",
        "/api/v1/relief/{relief}/decisions",
        "操作的选项不对",
        json={"action": "explode", "version": 1},
    ),
    # ---- photo uploads (multipart)
    Bad(
        "caption over 32",
        "assistant_a",
        "POST",
        PHOTO_PATH,
        "照片说明最多 32 个字",
        form={"uuid": str(uuid4()), "caption": "很" * 33},
        files={"file": (b"\xff\xd8 not really", "a.jpg")},
    ),
    Bad(
        "photo not a photo",
        "assistant_a",
        "POST",
        PHOTO_PATH,
        "这不是照片文件",
        form={"uuid": str(uuid4())},
        files={"file": (b"hello", "a.jpg")},
    ),
    Bad("photo without a file", "assistant_a", "POST", PHOTO_PATH, "照片文件（file）", form={"uuid": str(uuid4())}),
    Bad(
        "photo uuid not a uuid",
        "assistant_a",
        "POST",
        PHOTO_PATH,
        "照片编号（uuid）",
        form={"uuid": "12"},
        files={"file": (b"hello", "a.jpg")},
    ),
    Bad(
        "NUL in a caption",
        "assistant_a",
        "POST",
        PHOTO_PATH,
        "空字符",
        form={"uuid": str(uuid4()), "caption": "住\x00房"},
        files={"file": (b"hello", "a.jpg")},
    ),
    # ---- a multipart part without a name (Flask-WTF's key.endswith crashed on it)
    Bad(
        "nameless part on the login form",
        None,
        "POST",
        "/login",
        "表单格式不对",
        csrf=True,
        body=nameless_part(("username", "x"), ("password", "y")),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    ),
    Bad(
        "nameless part on a photo upload",
        "assistant_a",
        "POST",
        PHOTO_PATH,
        "表单格式不对",
        csrf=True,
        body=nameless_part(("uuid", str(uuid4()))),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    ),
    Bad(
        "nameless part on a household form",
        "township",
        "POST",
        "/households/new",
        "表单格式不对",
        body=nameless_part(("name", "李四")),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    ),
    # ---- names and text: NUL, direction controls, lengths, phones
    Bad(
        "NUL in a new head's name", "township", "POST", "/households/new", "空字符", form=new_household(name="李\x00四")
    ),
    Bad(
        "right-to-left override in a name",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "改变文字方向",
        form=member(name="张\u202e红小"),
    ),
    Bad(
        "isolate control in a name",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "改变文字方向",
        form=member(name="\u2066张小红\u2069"),
    ),
    Bad(
        "name over 64",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "姓名最多 64 个字",
        form=member(name="张" * 65),
    ),
    Bad(
        "name missing",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "请填写姓名",
        form=member(name=" "),
    ),
    Bad(
        "phone with letters",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "电话号码",
        form=member(phone="138abcd0000"),
    ),
    Bad(
        "ID number with a wrong check digit",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "校验位",
        form=member(id_number="530902194505168664"),
    ),
    Bad(
        "disability grade 5",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "残疾等级",
        form=member(disability_grade="5"),
    ),
    Bad(
        "relation unknown",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "与户主关系",
        form=member(relation="邻居"),
    ),
    Bad(
        "sex neither",
        "assistant_a",
        "POST",
        "/households/{household}/members/new",
        "性别",
        form=member(sex="未知的很长的性别"),
    ),
    Bad(
        "household phone a word",
        "township",
        "POST",
        "/households/{household}/edit",
        "电话号码",
        form=household_form(phone="打村委会"),
    ),
    Bad(
        "address over 200",
        "township",
        "POST",
        "/households/{household}/edit",
        "地址太长",
        form=household_form(address="组" * 201),
    ),
    Bad(
        "guardian over 64",
        "township",
        "POST",
        "/households/{household}/edit",
        "监护人最多 64 个字",
        form=household_form(guardian="王" * 65),
    ),
    Bad(
        "village out of scope",
        "township",
        "POST",
        "/households/{household}/edit",
        "辖区内的村",
        form=household_form(area_code=OTHER_VILLAGE),
    ),
    Bad(
        "household kind unknown",
        "township",
        "POST",
        "/households/{household}/edit",
        "请选择类型",
        form=household_form(kind="castle"),
    ),
    Bad(
        "exit for another reason with no note",
        "township",
        "POST",
        "/households/{household}/exit",
        "写明原因",
        form={"reason": "其他", "note": ""},
    ),
    Bad(
        "exit note over 180",
        "township",
        "POST",
        "/households/{household}/exit",
        "最多 180 字",
        form={"reason": "其他", "note": "因" * 181},
    ),
    Bad(
        "exit reason unknown",
        "township",
        "POST",
        "/households/{household}/exit",
        "请选择退出原因",
        form={"reason": "搬家"},
    ),
    Bad(
        "need status unknown", "township", "POST", "/needs/{need}/status", "请选择新的状态", form={"status": "exploded"}
    ),
    Bad(
        "hotline a word",
        "township",
        "POST",
        f"/areas/{TOWNSHIP}/hotline",
        "电话号码只能包含数字",
        form={"hotline": "找乡长"},
    ),
    Bad(
        "campaign ending before it starts",
        "city",
        "POST",
        "/coverage/campaigns/new",
        "结束日期不能早于开始日期",
        form=campaign_form(end_date="2026-02-01"),
    ),
    Bad(
        "campaign on 30 February",
        "city",
        "POST",
        "/coverage/campaigns/new",
        "开始日期格式不对",
        form=campaign_form(start_date="2026-02-30"),
    ),
    Bad(
        "campaign without a name",
        "city",
        "POST",
        "/coverage/campaigns/new",
        "请填写专项名称",
        form=campaign_form(name=""),
    ),
    Bad(
        "relief form negative amount",
        "assistant_a",
        "POST",
        "/relief/new?household={household}",
        "金额必须大于 0",
        form=relief_form(amount_yuan="-1"),
    ),
    Bad(
        "relief form without circumstances",
        "assistant_a",
        "POST",
        "/relief/new?household={household}",
        "请写明困难情况",
        form=relief_form(circumstances=" "),
    ),
    Bad(
        "relief form without its uuid",
        "assistant_a",
        "POST",
        "/relief/new?household={household}",
        "请求有误",
        form=relief_form(uuid=""),
    ),
    # ---- queries and paths with NUL (PostgreSQL cannot even compare one)
    Bad("NUL in ?q=", "assistant_a", "GET", "/households/?q=%E5%BC%A0%00", "空字符"),
    Bad("NUL in the API's ?q=", "assistant_a", "GET", "/api/v1/households?q=%00", "空字符"),
    Bad("NUL in a card token", None, "GET", "/h/abc%00def", "空字符"),
    Bad("NUL in a scanned number", "assistant_a", "GET", "/scan/lookup?no=00%0012", "空字符"),
    Bad("NUL in a users search", "county", "GET", "/users/?q=%00", "空字符"),
    # ---- passwords, and the API's answers to no session and to a wrong method
    Bad(
        "password change with a wrong current password",
        "assistant_a",
        "POST",
        "/password",
        "当前密码不对",
        form={"current": "wrong", "new": "a-much-longer-one-42", "confirm": "a-much-longer-one-42"},
    ),
    Bad(
        "password change that does not match",
        "assistant_a",
        "POST",
        "/password",
        "两次输入的新密码不一致",
        form={"current": "correct-horse-42", "new": "a-much-longer-one-42", "confirm": "another-one-42"},
    ),
    Bad("API write without a session", None, "POST", "/api/v1/visits", "请先登录", json=visit(), csrf=True),
    Bad("API wrong method", "assistant_a", "DELETE", "/api/v1/visits", "不支持这种请求方式"),
    # ---- roster imports
    Bad(
        "roster that is not a spreadsheet",
        "township",
        "POST",
        "/imports/",
        "只能导入 Excel",
        files={"file": (b"MZ\x90\x00binary", "roster.exe")},
    ),
    Bad("roster upload without a file", "township", "POST", "/imports/", "请先选择要导入的花名册文件", form={}),
    Bad(
        "roster confirm with nothing previewed",
        "township",
        "POST",
        "/imports/confirm",
        "重新上传",
        form={"upload": "../../etc/passwd"},
    ),
]


def counts(session) -> dict[str, int]:
    """Return the row count of every main table."""
    session.expire_all()
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in COUNTED}


def snapshot(session, household_id: int) -> tuple:
    """Return what a form could change on household A: its fields and its members' fields."""
    session.expire_all()
    household = session.get(Household, household_id).model_dump(exclude={"updated_at"})
    members = [p.model_dump() for p in session.exec(select(Person).where(Person.household_id == household_id))]
    return household, sorted(members, key=lambda m: m["id"])


@pytest.fixture
def arranged(session, world):
    """Add what the cases aim at: a campaign running today, a need, a submitted application and a visit."""
    today = date.today()
    campaign = Campaign(
        name="春节排查",
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=5),
        created_by_id=world.city.id,
    )
    need = add_need(session, world.household_a, "medical", by=world.assistant_a)
    application = add_relief(session, world.household_a, 50_000, by=world.assistant_a, state="submitted")
    application.amount_approved_fen = application.decided_at = None
    visit_row = Visit(
        uuid=str(uuid4()),
        content_hash="x" * 64,
        household_id=world.household_a.id,
        area_code=VILLAGE_A,
        visitor_id=world.assistant_a.id,
        kind="routine",
        visited_at=utcnow(),
    )
    session.add_all([campaign, need, application, visit_row])
    session.commit()
    return {
        "household": world.household_a.id,
        "person": world.head_a.id,
        "relief": application.id,
        "need": need.id,
        "campaign": campaign.id,
        "visit": visit_row.uuid,
    }


def fill(value, ids: dict):
    """Put the arranged ids into a case's path, form or JSON ("{household}" alone becomes the number)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and isinstance(ids.get(whole[1]), int):
            return ids[whole[1]]
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m[1]]), value)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def send(client, case: Bad, ids: dict):
    path = fill(case.path, ids)
    if case.body is not None:
        return client.open(path, method=case.method, data=case.body, content_type=case.content_type)
    if case.json is not None:
        return client.open(path, method=case.method, json=fill(case.json, ids))
    if case.form is not None or case.files:
        data = {k: str(v) for k, v in fill(case.form or {}, ids).items()}
        data |= {name: (io.BytesIO(content), filename) for name, (content, filename) in case.files.items()}
        return client.open(path, method=case.method, data=data)
    return client.open(path, method=case.method)


def message_of(response) -> str:
    """Return what the answer tells the person: the JSON message, or the page's text."""
    if response.is_json:
        body = response.get_json()
        return " ".join([body.get("message", "")] + [f["message"] for f in body.get("fields", [])])
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


def test_the_catalogue_is_large_and_every_case_has_a_distinct_name():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_is_refused_in_chinese_and_changes_nothing(case, make_app, app, world, arranged, session):
    client = (make_app(WTF_CSRF_ENABLED=True) if case.csrf else app).test_client()
    if case.who:
        login(client, getattr(world, case.who))
    before, household_before = counts(session), snapshot(session, world.household_a.id)
    response = send(client, case, arranged)
    said = message_of(response)
    assert 400 <= response.status_code < 500, f"{response.status_code}: {said[:300]!r}"
    assert case.says in said and CHINESE.search(case.says), said[:600]
    if case.path.startswith("/api/"):
        assert response.is_json, response.get_data(as_text=True)[:200]
    assert counts(session) == before
    assert snapshot(session, world.household_a.id) == household_before
