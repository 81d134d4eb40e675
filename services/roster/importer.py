"""County rosters (花名册): read .xlsx or .csv, check every row, preview, then import in one transaction."""

import re
import secrets
import shutil
import unicodedata
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import Area, Household, Person
from services.audit import Actor
from services.errors import Invalid
from services.inputs import name_problem
from services.registry import idnumber
from services.registry.categories import parse_roster_categories
from services.registry.persons import HEAD, RELATIONS
from services.roster.file import (
    STORED_NAME,
    Family,
    Member,
    Preview,
    Problem,
    cell_text,
    discard,
    display_name,
    extension_of,
    fold,
    read_roster,
    remove_stale_uploads,
)
from services.roster.writer import apply, describe, summary
from services.scope import is_in_scope

LOOKUP_BATCH = 500

# Relations as rosters spell them → the registry's words; anything else unknown becomes 其他.
RELATION_WORDS = {
    word: canonical
    for canonical, words in {
        HEAD: ("户主",),
        "子": ("儿子", "长子", "次子"),
        "女": ("女儿", "长女", "次女"),
        "父亲": ("父",),
        "母亲": ("母",),
        "配偶": ("妻", "妻子", "夫", "丈夫"),
    }.items()
    for word in words
}
TOTAL_WORDS = ("合计", "总计", "小计")
MAX_MONTHLY_YUAN = Decimal(1_000_000)  # far above any allowance; keeps a typo like 1e30 out of an integer column
SKIPPED_REASON = "户主那一行（第 {row} 行）有错，本行随户一起跳过"
EXPIRED = "这份文件已经导入过或已过期，请重新上传"

# The roster API in one place: callers import services.roster and need not know the split.
__all__ = [
    "apply",
    "check_file",
    "cli_scope",
    "describe",
    "discard",
    "import_stored",
    "receive_upload",
    "remove_stale_uploads",
    "summary",
]


# ---- files ---------------------------------------------------------------------------------


def receive_upload(session: Session, user, stream, filename: str, folder: Path) -> tuple[str, Preview]:
    """Store an upload under a random name and check it; a file that cannot be read is not kept."""
    ext = extension_of(filename)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{secrets.token_urlsafe(16)}.{ext}"
    with open(folder / stored, "wb") as handle:
        shutil.copyfileobj(stream, handle)
    try:
        return stored, check_file(session, user, folder / stored, display_name(filename))
    except Invalid:
        discard(folder, stored)
        raise


def import_stored(session: Session, actor: Actor, folder: Path, stored: str, file_name: str):
    """Check a stored upload again (the registry may have changed) and import it; return (preview, created)."""
    if not STORED_NAME.match(stored or "") or not (folder / stored).is_file():
        raise Invalid(EXPIRED)
    try:
        preview = check_file(session, actor.user, folder / stored, file_name)
    except FileNotFoundError:  # removed as unconfirmed (cleanup-files) between the check above and the reading
        raise Invalid(EXPIRED) from None
    return preview, apply(session, actor, preview)


# ---- checking ------------------------------------------------------------------------------


def cli_scope(session: Session, county_code: str | None = None):
    """Return whom a command-line import acts as: the whole city, or one county."""
    if not county_code:
        return SimpleNamespace(role="admin", area_code="")
    code = county_code.strip().ljust(12, "0")
    area = session.get(Area, code)
    if area is None or area.level != 2:
        raise Invalid(f"区划代码 {county_code} 不是系统里的县（区）")
    return SimpleNamespace(role="county", area_code=code)


def check_file(session: Session, user, path: Path, file_name: str) -> Preview:
    """Read and check a roster against the database, writing nothing."""
    columns, rows = read_roster(path)
    checker = _Checker(user, _village_index(session), Preview(file_name))
    seen: dict[tuple, int] = {}
    for row_no, cells in rows:
        record = {key: cells[col] if col < len(cells) else None for key, col in columns.items()}
        if not any(cell_text(c) for c in cells) or _is_total(cells):
            continue
        fingerprint = _fingerprint(cells, columns.get("serial", -1))
        if fingerprint in seen:
            checker.preview.duplicates.append(row_no)
            continue
        seen[fingerprint] = row_no
        checker.take(row_no, record)
    _match_registered(session, user, checker.preview)
    return checker.preview


def _is_total(cells) -> bool:
    return any(fold(cell).startswith(TOTAL_WORDS) for cell in cells[:3])


def _fingerprint(cells, serial_col: int) -> tuple:
    """Return a row's content without its serial number, so a pasted copy matches its original."""
    values = [cell_text(c) for i, c in enumerate(cells) if i != serial_col]
    while values and not values[-1]:
        values.pop()
    return tuple(values)


def _village_index(session: Session) -> dict[tuple[str, str], list[str]]:
    """Map (township name, village name) and ('', village name) to village codes, in one query."""
    township = aliased(Area)
    query = select(Area.code, Area.name, township.name).join(township, township.code == Area.parent_code)
    index = defaultdict(list)
    for code, name, township_name in session.exec(query.where(Area.level == 4)):
        index[(fold(township_name), fold(name))].append(code)
        index[("", fold(name))].append(code)
    return index


class _Checker:
    """Check rows one by one and group them into families under their head rows."""

    def __init__(self, user, villages, preview: Preview):
        self.user, self.villages, self.preview = user, villages, preview
        self.heads: dict[tuple, Family | int] = {}  # latest head per key: its family, or its row if bad
        self.current: tuple | None = None
        self.ids: dict[str, int] = {}

    def take(self, row_no: int, record: dict) -> None:
        """Check one data row and file it as part of a family, an error or a skipped row."""
        name = fold(record.get("name"))
        is_head = fold(record.get("relation")) in (HEAD, "户主")
        head_name = fold(record.get("head_name")) or (name if is_head else "")
        key = (fold(record.get("township")), fold(record.get("village")), head_name) if head_name else self.current
        area_code, member, problems = self._check(row_no, record, is_head)
        if problems:
            self.preview.errors.append(Problem(row_no, problems[0][0], "；".join(p[1] for p in problems), name))
            if is_head:
                self.heads[key], self.current = row_no, key
            return
        if is_head:
            family = Family(area_code, cell_text(record.get("address"))[:200] or None, member.phone, member)
            member.phone = None  # the head's phone is the household's phone
            self.preview.families.append(family)
            self.heads[key], self.current = family, key
            return
        head = self.heads.get(key)
        if isinstance(head, Family):
            head.members.append(member)
        elif head is not None:
            self.preview.skipped.append(Problem(row_no, "head_error", SKIPPED_REASON.format(row=head), name))
        else:
            who = f"户主“{head_name}”的" if head_name else ""
            reason = f"前面没有{who}“本人”行，无法确定这人属于哪一户；请把户主行放在成员之前"
            self.preview.errors.append(Problem(row_no, "no_head", reason, name))

    def _check(self, row_no: int, record: dict, is_head: bool):
        problems = []
        area_code = self._village(record, problems)
        name = fold(record.get("name"))
        if problem := name_problem(name, "成员姓名"):
            problems.append(("name", problem))
        relation = _relation(record.get("relation"), is_head)
        if relation is None:
            problems.append(("relation", "与户主关系为空：户主填“本人”，其他人填“配偶”“子”“女”等"))
        number = self._id_number(row_no, record.get("id_number"), problems)
        amount = _amount_fen(record.get("amount"), problems)
        phone = _phone(record.get("phone"), problems)
        if problems:
            return None, None, problems
        self.ids[number.number] = row_no
        categories = parse_roster_categories(cell_text(record.get("categories")))
        return area_code, Member(row_no, name, relation, number, categories, amount, phone), []

    def _village(self, record: dict, problems: list) -> str | None:
        township, village = cell_text(record.get("township")), cell_text(record.get("village"))
        codes = self.villages.get((fold(township), fold(village)), [])
        inside = [code for code in codes if is_in_scope(self.user, code)]
        if len(inside) == 1:
            return inside[0]
        label = f"{township}{village}" if township else village
        if len(inside) > 1:
            problems.append(("village_ambiguous", f"村（社区）“{label}”有重名，请填写所属乡镇（街道）"))
        elif codes:
            problems.append(("out_of_scope", f"村（社区）“{label}”不在您的辖区，不能由您导入"))
        else:
            problems.append(("village_unknown", f"村（社区）“{label}”不在系统中，请核对乡镇和村的名称"))
        return None

    def _id_number(self, row_no: int, raw, problems: list) -> idnumber.IdNumber | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems.append(("missing_id", "身份证号码为空，请补填"))
            return None
        try:
            number = idnumber.parse(raw)
        except idnumber.IdNumberError as error:
            problems.append((error.reason, str(error)))
            return None
        earlier = self.ids.get(number.number)
        if earlier is not None:
            problems.append(("duplicate_id", f"身份证号与第 {earlier} 行相同，一个身份证号只能登记一人"))
        return number


def _relation(value, is_head: bool) -> str | None:
    if is_head:
        return HEAD
    word = fold(value)
    if not word:
        return None
    word = RELATION_WORDS.get(word, word)
    return word if word in RELATIONS else "其他"


def _amount_fen(value, problems: list) -> int | None:
    text = cell_text(value).replace("元", "").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        amount = Decimal(unicodedata.normalize("NFKC", text))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        problems.append(("amount", f"月保障金额“{cell_text(value)[:32]}”不是金额，请填写数字（元）"))
        return None
    if amount > MAX_MONTHLY_YUAN:  # checked before rounding: 1e30 fen has more digits than Decimal keeps
        problems.append(("amount", f"月保障金额“{cell_text(value)[:32]}”超过每月 100 万元，请核对（单位是元）"))
        return None
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _phone(value, problems: list) -> str | None:
    text = unicodedata.normalize("NFKC", cell_text(value))
    if not text:
        return None
    if len(text) > 32 or not re.fullmatch(r"[0-9+\- /、,，;；]*[0-9][0-9+\- /、,，;；]*", text):
        problems.append(("phone", f"联系电话“{text[:32]}”只能包含数字和“-”"))
        return None
    return text


def _match_registered(session: Session, user, preview: Preview) -> None:
    """Drop people already registered city-wide; a registered head means the household exists."""
    numbers = [m.id.number for f in preview.families for m in (f.head, *f.members)]
    registered = {}
    for start in range(0, len(numbers), LOOKUP_BATCH):
        query = (
            select(Person.id_number, Person.household_id, Household.area_code)
            .join(Household, Household.id == Person.household_id)
            .where(Person.id_number.in_(numbers[start : start + LOOKUP_BATCH]))
        )
        registered.update({number: (hid, code) for number, hid, code in session.exec(query)})
    kept = []
    for family in preview.families:
        household_id, area_code = registered.get(family.head.id.number, (None, None))
        if household_id is not None and not is_in_scope(user, area_code):
            reason = "户主的身份证号已在其他辖区登记，请联系当地经办员核实"
            preview.errors.append(Problem(family.head.row, "registered_elsewhere", reason, family.head.name))
            skipped = SKIPPED_REASON.format(row=family.head.row)
            preview.skipped += [Problem(m.row, "head_error", skipped, m.name) for m in family.members]
            continue
        fresh = [m for m in family.members if m.id.number not in registered]
        preview.already_present += len(family.members) - len(fresh) + (household_id is not None)
        family.members, family.household_id = fresh, household_id
        if household_id is None or fresh:
            kept.append(family)
    preview.families = kept
    preview.errors.sort(key=lambda p: p.row)
    preview.skipped.sort(key=lambda p: p.row)
