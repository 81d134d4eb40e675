"""A care agreement as a Word document filled in from the registry: the parties, the duties, the dates, signatures.

Before it is signed the dates are left as blanks to fill in by hand. The cared-for person's ID number is masked,
as everywhere by default; the paper is completed with the number at the signing.
"""

from datetime import date
from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlmodel import Session

from models import Area, CareAgreement, Household, Person
from services.campaigns.report_docx import _set_fonts  # the East-Asian font fix the work report needs too
from services.care.agreements import KINDS
from services.registry.areas import area_path
from services.registry.idnumber import mask

BODY_FONT, TITLE_FONT = "仿宋", "宋体"
BLANK_DATE = "______年____月____日"
CARED_FOR = {"tekun": "被照料人", "child": "被监护儿童"}
CARER = {"tekun": "受托照料人", "child": "受委托监护人"}
PURPOSE = {
    "tekun": "为保障分散供养特困人员基本生活，做到平日有人照应、生病有人看护，经三方协商一致，签订本协议。",
    "child": "为落实农村留守儿童委托监护责任，保障儿童安全、健康成长，经三方协商一致，签订本确认书。",
}
TOWNSHIP_DUTIES = {
    "tekun": (
        "按时足额发放特困人员供养金和照料护理补贴",
        "组织村协理员定期走访，检查照料情况，发现照料不到位时督促整改",
        "被照料人生活不能自理或本人愿意时，协助申请集中供养",
    ),
    "child": (
        "落实留守儿童关爱保护政策，组织村（社区）儿童主任定期走访",
        "检查委托监护情况，发现监护缺失时及时干预",
    ),
}


def chinese_day(day: date | None) -> str:
    """Return 2026年12月1日, or the blank to fill in by hand."""
    return f"{day.year}年{day.month}月{day.day}日" if day else BLANK_DATE


def build(session: Session, agreement: CareAgreement) -> bytes:
    """Return the agreement's .docx bytes."""
    household = session.get(Household, agreement.household_id)
    person = session.get(Person, agreement.person_id)
    township = session.get(Area, agreement.area_code)
    place = "".join(area.name for area in area_path(session, household.area_code)[1:])
    township_name = f"{township.name}人民政府" if township else "乡镇人民政府"
    document = Document()
    _styles(document)
    title = KINDS[agreement.kind]
    document.core_properties.title = title
    document.core_properties.author = township_name
    _line(document, title, size=22, bold=True, font=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    _line(document, "")
    _line(document, f"甲方（乡镇）：{township_name}")
    _line(document, f"乙方（{CARER[agreement.kind]}）：{agreement.carer_name}")
    _line(
        document,
        f"    与{CARED_FOR[agreement.kind]}关系：{agreement.carer_relation}    联系电话：{agreement.carer_phone}",
    )
    _line(document, f"丙方（{CARED_FOR[agreement.kind]}）：{person.name}")
    details = [f"性别：{person.sex or '____'}", f"身份证号：{mask(person.id_number)}"]
    _line(document, "    " + "    ".join(details))
    _line(document, f"    住址：{place}{household.address or ''}（{household.household_no}号户）")
    _line(document, "")
    _line(document, PURPOSE[agreement.kind], indent=True)
    _line(document, "一、乙方职责", bold=True)
    for number, duty in enumerate(agreement.duties.splitlines(), start=1):
        _line(document, f"{number}. {duty}", indent=True)
    _line(document, "二、甲方职责", bold=True)
    for number, duty in enumerate(TOWNSHIP_DUTIES[agreement.kind], start=1):
        _line(document, f"{number}. {duty}", indent=True)
    _line(document, "三、协议期限", bold=True)
    _line(
        document,
        f"自{chinese_day(agreement.signed_on)}起至{chinese_day(agreement.valid_until)}止。期满前一个月内三方商定是否续签。",
        indent=True,
    )
    _line(document, "四、其他", bold=True)
    _line(
        document,
        "乙方不能继续履行职责时，应提前告知甲方和村（社区）。本协议一式三份，三方各执一份，自签订之日起生效。",
        indent=True,
    )
    _line(document, "")
    for party in (f"甲方（盖章）：{township_name}", "乙方（签字或手印）：", "丙方（签字或手印）："):
        _line(document, f"{party}____________")
        _line(document, f"日期：{chinese_day(agreement.signed_on)}")
        _line(document, "")
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _styles(document) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    _set_fonts(defaults, BODY_FONT)
    normal = document.styles["Normal"]
    _set_fonts(normal.element, BODY_FONT)
    normal.font.size = Pt(14)
    normal.paragraph_format.space_after = Pt(4)


def _line(document, text: str, *, size=None, bold=False, font=None, align=None, indent=False):
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(28)  # 首行缩进两字
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if font:
        _set_fonts(run._element, font)
    return paragraph
