"""The area tree: load it, read it, and keep township and county hotlines."""

import csv
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from models import Area
from services import audit
from services.audit import Actor
from services.errors import Invalid, NotFound
from services.permissions import can
from services.scope import PREFIX_LENGTH, area_level, code_range, is_in_scope, where_in_scope

LINCANG_CSV = Path(__file__).resolve().parents[2] / "data" / "areas_lincang.csv"
LEVEL_NAMES = {1: "市", 2: "县（区）", 3: "乡镇（街道）", 4: "村（社区）"}


def read_area_csv(path) -> list[dict]:
    """Read rows of code, name, parent code from a CSV file (UTF-8, with or without BOM)."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or not row[0].strip() or not row[0].strip().isdigit():
                continue  # header or blank line
            code = row[0].strip().ljust(12, "0")
            name = row[1].strip() if len(row) > 1 else ""
            parent = row[2].strip().ljust(12, "0") if len(row) > 2 and row[2].strip() else None
            if len(code) != 12 or not name:
                raise Invalid(f"第 {line_no} 行：区划代码应为 12 位数字并有名称")
            rows.append({"code": code, "name": name, "parent_code": parent})
    return rows


def import_areas(session: Session, rows: list[dict]) -> tuple[int, int]:
    """Insert new areas and rename changed ones, parents first; return (created, updated)."""
    existing = {area.code: area for area in session.exec(select(Area))}
    created = updated = 0
    for row in sorted(rows, key=lambda r: (area_level(r["code"]), r["code"])):
        area = existing.get(row["code"])
        if area is None:
            if row["parent_code"] and row["parent_code"] not in existing:
                raise Invalid(f"{row['code']} {row['name']} 的上级 {row['parent_code']} 不存在")
            area = Area(
                code=row["code"], name=row["name"], level=area_level(row["code"]), parent_code=row["parent_code"]
            )
            session.add(area)
            existing[area.code] = area
            created += 1
        elif area.name != row["name"]:
            area.name = row["name"]
            updated += 1
        session.flush()
    return created, updated


def load_lincang(session: Session) -> tuple[int, int]:
    """Load the bundled Lincang tree (city, 8 counties, townships and villages)."""
    return import_areas(session, read_area_csv(LINCANG_CSV))


def is_area_code(text: str) -> bool:
    """Tell whether text looks like a 12-digit area code."""
    return len(text) == 12 and text.isdigit()


def get_area(session: Session, code: str) -> Area | None:
    """Return one area by code."""
    return session.get(Area, code)


def areas_in_scope(user, level: int | None = None):
    """Return a select() of areas inside the user's scope, optionally of one level."""
    query = select(Area).where(where_in_scope(user, Area.code)).order_by(Area.code)
    if level is not None:
        query = query.where(Area.level == level)
    return query


def area_choices(session: Session, user, level: int) -> list[tuple[str, list[Area]]]:
    """Return the user's areas of one level grouped under their parents' names, for a select."""
    choices = list(session.exec(areas_in_scope(user, level)))
    parents = area_names(session, {area.parent_code for area in choices if area.parent_code})
    groups: dict[str, list[Area]] = {}
    for area in choices:  # ordered by code, so each parent's children come together
        groups.setdefault(parents.get(area.parent_code, ""), []).append(area)
    return list(groups.items())


def villages_under(session: Session, code: str) -> list[Area]:
    """Return the villages below an area (the area itself if it is a village)."""
    low, high = code_range(code[: PREFIX_LENGTH[area_level(code)]])
    query = select(Area).where(Area.level == 4, Area.code >= low, Area.code <= high)
    return list(session.exec(query.order_by(Area.code)))


def area_names(session: Session, codes) -> dict[str, str]:
    """Return {code: name} for the given codes in one query."""
    codes = set(codes)
    if not codes:
        return {}
    return dict(session.exec(select(Area.code, Area.name).where(Area.code.in_(codes))).all())


def area_path(session: Session, code: str) -> list[Area]:
    """Return the chain of areas from the city down to this one."""
    path = []
    area = session.get(Area, code)
    while area is not None:
        path.append(area)
        area = session.get(Area, area.parent_code) if area.parent_code else None
    return list(reversed(path))


def hotline_for(session: Session, code: str) -> str | None:
    """Return the nearest hotline for an area: its township's, else its county's."""
    for area in reversed(area_path(session, code)):
        if area.level in (2, 3) and area.hotline:
            return area.hotline
    return None


def editable_hotline_areas(user):
    """Return a select() of the townships and counties whose hotline this user may edit."""
    query = select(Area).where(where_in_scope(user, Area.code), Area.level.in_((2, 3)))
    return query.order_by(Area.code)


def get_hotline_area_for(session: Session, user, code: str) -> Area:
    """Return a township or county whose hotline the user may edit, or raise 404."""
    area = session.get(Area, code)
    if area is None or area.level not in (2, 3) or not can(user, "hotlines.edit") or not is_in_scope(user, code):
        raise NotFound()
    return area


def change_hotline(session: Session, actor: Actor, area: Area, hotline: str) -> None:
    """Set an area's hotline and audit the old and new number (Invalid if it is not a phone number)."""
    old = area.hotline
    set_hotline(area, hotline)
    if area.hotline != old:
        session.add(area)
        audit.record(session, actor, "area.hotline_changed", area, code=area.code, old=old, new=area.hotline)


def set_hotline(area: Area, hotline: str) -> None:
    """Set a township's or county's public service phone after light checking."""
    cleaned = hotline.strip()
    allowed = set("0123456789-+ ")
    if cleaned and (not set(cleaned) <= allowed or len(cleaned) > 32 or len(cleaned) < 5):
        raise Invalid({"hotline": "电话号码只能包含数字、空格和“-”，例如 0883-2122345"})
    area.hotline = cleaned or None


def count_areas(session: Session) -> int:
    """Return how many areas are loaded."""
    return session.exec(select(func.count()).select_from(Area)).one()
