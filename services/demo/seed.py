"""Deterministic synthetic demo data: households, members, categories, and the demo accounts.

The same household count and seed give the same people on an empty registry. Rows go in with
Core bulk inserts and primary keys chosen here, so 100,000 households take seconds, not hours.
"""

import random
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from models import Area, CareAgreement, Household, Person, PersonCategory, User, utcnow
from services import audit
from services.accounts.users import MIN_PASSWORD_LENGTH, hash_password
from services.audit import Actor
from services.cards.cards import issue_cards_bulk
from services.care.agreements import KIND_FOR_CATEGORY, default_duties
from services.clock import today_in_china
from services.demo.people import HouseholdPlan, forced_profile, make_id_number, make_phone, plan_household
from services.errors import Invalid
from services.permissions import ROLES

DEMO_PASSWORD = "doudi-demo"
BATCH_HOUSEHOLDS = 2000  # one transaction per batch: memory stays flat and a failure loses little


@dataclass(frozen=True)
class DemoAccount:
    """One demo login."""

    username: str
    display_name: str
    role: str
    area_code: str
    phone: str


DEMO_ACCOUNTS = (
    DemoAccount("demo-assistant", "李春梅", "assistant", "530902100201", "13988301001"),
    DemoAccount("demo-assistant2", "杨建华", "assistant", "530902100202", "13988301002"),
    DemoAccount("demo-township", "罕文明", "township", "530902100000", "13988302001"),
    DemoAccount("demo-county", "段丽萍", "county", "530902000000", "13988303001"),
    DemoAccount("demo-city", "字国强", "city", "530900000000", "13988304001"),
    DemoAccount("demo-admin", "鲁志刚", "admin", "530900000000", "13988305001"),
)


@dataclass
class SeedResult:
    """What one seeding run made."""

    households: int
    persons: int
    categories: int
    seconds: float
    first_household_id: int  # the run's households have this id and the ones after it


# ---- accounts and hotlines -----------------------------------------------------------------


def ensure_accounts(session: Session, password: str) -> dict[str, User]:
    """Create or refresh the demo accounts so each signs in at once with this password."""
    password_hash = hash_password(password)  # scrypt is slow on purpose: hash once for all six
    existing = {
        u.username: u for u in session.exec(select(User).where(User.username.in_([a.username for a in DEMO_ACCOUNTS])))
    }
    accounts = {}
    for account in DEMO_ACCOUNTS:
        if session.get(Area, account.area_code) is None:
            continue  # a custom area tree without this place: no account rather than a broken one
        user = existing.get(account.username) or User(
            username=account.username, display_name="", role="", area_code="", password_hash=""
        )
        user.display_name, user.role, user.area_code = account.display_name, account.role, account.area_code
        user.phone = user.phone or account.phone
        user.password_hash, user.must_change_password, user.active = password_hash, False, True
        session.add(user)
        accounts[account.username] = user
    session.flush()
    return accounts


def ensure_hotlines(session: Session) -> int:
    """Give every township and county without a hotline a made-up one; return how many were set."""
    changed = 0
    for area in session.exec(select(Area).where(Area.level.in_((2, 3)), Area.hotline.is_(None))):
        # 0883 is Lincang's trunk code; the digits come from the area code so reruns agree
        area.hotline = f"0883-2{area.code[4:6]}3456" if area.level == 2 else f"0883-6{area.code[4:6]}{area.code[6:9]}1"
        session.add(area)
        changed += 1
    return changed


def login_lines(session: Session, password: str = DEMO_PASSWORD) -> list[str]:
    """Return one printable line per demo account: username, role, area, password."""
    names = dict(session.exec(select(Area.code, Area.name)).all())
    present = set(
        session.exec(select(User.username).where(User.username.in_([a.username for a in DEMO_ACCOUNTS]))).all()
    )
    return [
        f"  {a.username:<16} {_pad(ROLES[a.role], 16)} {_pad(names.get(a.area_code, a.area_code), 8)} 密码 {password}"
        for a in DEMO_ACCOUNTS
        if a.username in present
    ]


def _pad(text: str, width: int) -> str:
    """Pad to a terminal width; Chinese characters take two columns."""
    return text + " " * max(0, width - sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))


# ---- households ----------------------------------------------------------------------------


@dataclass
class _Village:
    code: str
    place: str  # 博尚镇碗窑村
    township: str
    county: str
    assistant_id: int | None
    next_no: int
    position: int  # index among all villages, by code
    ordinal: int = 0  # how many households this run has put here so far


def _villages(session: Session, accounts: dict[str, User]) -> list[_Village]:
    names = dict(session.exec(select(Area.code, Area.name)).all())
    villages = list(session.exec(select(Area).where(Area.level == 4).order_by(Area.code)))
    if not villages:
        raise Invalid("还没有村（社区）一级的区划，请先导入区划再生成演示数据")
    helpers = {u.area_code: u.id for u in accounts.values() if u.role == "assistant"}
    highest: dict[str, int] = {}
    for code, number in session.exec(select(Household.area_code, Household.household_no)):
        if number.isdigit():
            highest[code] = max(highest.get(code, 0), int(number))
    result = []
    for position, v in enumerate(villages):
        township, county = names.get(v.parent_code, ""), names.get(v.code[:6] + "000000", "")
        next_no = highest.get(v.code, 0) + 1
        result.append(_Village(v.code, township + v.name, township, county, helpers.get(v.code), next_no, position))
    return result


def _village_cycle(villages: list[_Village]) -> list[_Village]:
    """Every village once, then the demo assistants' villages three more times so their lists look lived-in."""
    demo = [v for v in villages if v.assistant_id is not None]
    return villages + demo * 3


class _Writer:
    """Collect rows with their primary keys and insert them a batch at a time."""

    def __init__(self, session: Session, used_ids: set[str]):
        self.session = session
        self.used_ids = used_ids
        self.now = utcnow()
        self.next_household = max_id(session, Household) + 1
        self.next_person = max_id(session, Person) + 1
        self.households: list[dict] = []
        self.persons: list[dict] = []
        self.categories: list[dict] = []
        self.agreements: list[dict] = []
        self.totals = [0, 0, 0]

    def add(self, rng: random.Random, village: _Village, plan: HouseholdPlan) -> None:
        household_id, self.next_household = self.next_household, self.next_household + 1
        household_phone = None
        agreed = False  # one agreement per household: its first 特困 or left-behind member's
        for index, member in enumerate(plan.members):
            person_id, self.next_person = self.next_person, self.next_person + 1
            number = make_id_number(rng, village.code[:6], member, self.used_ids)
            phone = make_phone(rng) if 18 <= member.age <= 75 and rng.random() < 0.6 else None
            household_phone = household_phone or phone
            extra = {"id": person_id, "household_id": household_id, "is_head": index == 0, "phone": phone}
            self.persons.append(_row(member, ("age", "categories"), id_number=number, id_last4=number[-4:], **extra))
            self.categories.extend({"person_id": person_id, "category": c} for c in member.categories)
            if plan.care_agreement_signed and not agreed:
                row = demo_agreement(household_id, person_id, member, plan.guardian, village, self.now)
                if row:
                    self.agreements.append(row)
                    agreed = True
        place = {"id": household_id, "area_code": village.code, "household_no": f"{village.next_no:04d}"}
        extra = {"phone": household_phone, "assistant_id": village.assistant_id}
        self.households.append(_row(plan, ("members",), **place, **extra, created_at=self.now, updated_at=self.now))
        village.next_no += 1
        village.ordinal += 1

    def flush(self) -> None:
        """Insert the collected rows in one transaction."""
        if not self.households:
            return
        advance_sequence(self.session, Household, self.next_household - 1)
        advance_sequence(self.session, Person, self.next_person - 1)
        tables = ((Household, self.households), (Person, self.persons), (PersonCategory, self.categories))
        for model, rows in (*tables, (CareAgreement, self.agreements)):
            if rows:
                self.session.exec(insert(model.__table__), params=rows)
        issue_cards_bulk(self.session, [row["id"] for row in self.households])
        self.session.commit()
        for i, rows in enumerate((self.households, self.persons, self.categories)):
            self.totals[i] += len(rows)
        self.households, self.persons, self.categories, self.agreements = [], [], [], []


CARER_RELATIONS = {"祖父": "祖父母", "祖母": "祖父母", "邻居": "邻居"}  # the demo guardians' words, as the form's


def demo_agreement(household_id: int, person_id: int, member, guardian: str | None, village, now) -> dict | None:
    """Return the care agreement row behind a demo household's 已签 flag, for its 特困 or left-behind member.

    Dates come from the household id, not the random generator, so the same seed still gives the same people;
    about one in fourteen runs out within a month (a renewal reminder to see).
    """
    kind = next((KIND_FOR_CATEGORY[c] for c in member.categories if c in KIND_FOR_CATEGORY), None)
    if kind is None or not guardian or village.assistant_id is None:
        return None
    name, _, relation = guardian.partition("（")
    today = today_in_china(now)
    signed = today - timedelta(days=household_id * 37 % 360)
    return {
        "household_id": household_id,
        "person_id": person_id,
        "kind": kind,
        "area_code": village.code[:9] + "000",
        "carer_name": name,
        "carer_phone": "",
        "carer_relation": CARER_RELATIONS.get(relation.rstrip("）"), "其他亲属"),
        "duties": default_duties(kind),
        "signed_on": signed,
        "valid_until": signed + timedelta(days=364),
        "status": "active",
        "created_by_id": village.assistant_id,
        "created_at": now,
        "updated_at": now,
    }


def _row(obj, skip: tuple[str, ...], **extra) -> dict:
    """Turn an object's fields (less those that are no columns) and extra values into an insert row."""
    row = {key: value for key, value in vars(obj).items() if key not in skip}
    row.update(extra)
    return row


def max_id(session: Session, model) -> int:
    """Return the highest id in a table (0 when empty): demo rows are given ids from there on."""
    return session.exec(select(func.coalesce(func.max(model.id), 0))).one()


def advance_sequence(session: Session, model, last_id: int) -> None:
    """On PostgreSQL move the id sequence past the ids chosen here, so later inserts do not collide."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite takes max(id) + 1 by itself
    sequence = f"pg_get_serial_sequence('{model.__tablename__}', 'id')"
    session.exec(text(f"SELECT setval({sequence}, GREATEST(:last, nextval({sequence})))"), params={"last": last_id})


def seed_demo(
    session: Session, actor: Actor, *, households: int, seed: int, password: str = DEMO_PASSWORD
) -> SeedResult:
    """Create or refresh the demo accounts and add `households` synthetic households."""
    if households < 0:
        raise Invalid("户数不能为负数")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"演示账号的密码至少 {MIN_PASSWORD_LENGTH} 位")
    started = time.perf_counter()
    accounts = ensure_accounts(session, password)
    ensure_hotlines(session)
    session.commit()
    villages = _villages(session, accounts)
    cycle = _village_cycle(villages)
    used_ids = set(session.exec(select(Person.id_number).where(Person.id_number.is_not(None))).all())
    writer = _Writer(session, used_ids)
    first_household_id = writer.next_household
    rng = random.Random(seed)  # never the global random: the same seed must give the same people
    for i in range(households):
        village = cycle[i % len(cycle)]
        profile = forced_profile(i, village.ordinal, village.position, village.assistant_id is not None)
        writer.add(rng, village, plan_household(rng, profile, village))
        if len(writer.households) >= BATCH_HOUSEHOLDS:
            writer.flush()
    writer.flush()
    made = dict(zip(("households", "persons", "categories"), writer.totals, strict=True))
    audit.record(session, actor, "demo.seeded", None, **made, seed=seed, accounts=sorted(accounts))
    session.commit()
    return SeedResult(**made, seconds=time.perf_counter() - started, first_household_id=first_household_id)


def count_households(session: Session) -> int:
    """Return how many households are registered at all."""
    return session.exec(select(func.count()).select_from(Household)).one()
