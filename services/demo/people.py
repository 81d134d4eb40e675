"""Synthetic people for the demo: names, ages, ID numbers, phones and household make-ups.

Everything is drawn from the random.Random handed in, so one seed always gives the same people.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.errors import Invalid
from services.registry import idnumber

REFERENCE_DATE = date(2025, 12, 31)  # ages count from a fixed day, not today, so a seed never drifts
# Common surnames weighted by repetition, with the ones often met around Lincang (罕 岩 俸 字 鲁 段 玉 …).
SURNAMES = "".join(
    c * n for c, n in zip("李杨张王字段罕刘陈赵周岩俸鲁玉", (9, 8, 7, 5, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2), strict=True)
)
SURNAMES += "鲍刀俄尼付罗吴何胡黄朱马毛施邓谢彭杜熊陶"
MALE_CHARS = "国建明华文志永成光德学正忠海强兵军平东伟林福荣贵发祥有生云金宝富昌才顺兴龙江山新俊杰涛磊鑫宇浩博勇"
FEMALE_CHARS = "秀英兰芳梅玉珍丽凤琼花萍红霞燕娟艳美娇春桂菊香翠琴婷静雪佳欣怡蕊敏仙芬"
MOBILE_PREFIXES = ("138", "139", "150", "151", "152", "157", "158", "159", "187", "188", "133", "153", "180", "189")


@dataclass
class Member:
    """One synthetic person before it becomes a row."""

    name: str
    sex: str
    age: int
    relation: str
    birth_date: date
    categories: list[str] = field(default_factory=list)
    disability_grade: int | None = None
    monthly_allowance_fen: int | None = None


@dataclass
class HouseholdPlan:
    """One synthetic household: its members (head first) and its care arrangement."""

    members: list[Member]
    address: str
    kind: str = "family"
    care_agreement_signed: bool = False
    guardian: str | None = None
    wants_institutional_care: bool = False


def _person(rng: random.Random, relation: str, sex: str, age: int, surname: str | None = None) -> Member:
    pool = MALE_CHARS if sex == "男" else FEMALE_CHARS
    given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
    born = REFERENCE_DATE - timedelta(days=age * 365 + rng.randrange(365))
    return Member((surname or rng.choice(SURNAMES)) + given, sex, age, relation, born)


def _sex(rng: random.Random, male_share: float = 0.5) -> str:
    return "男" if rng.random() < male_share else "女"


def _descendant(rng: random.Random, generation: str, ages: tuple[int, int], surname: str | None) -> Member:
    sex = _sex(rng)
    relation = {"子女": {"男": "子", "女": "女"}, "孙": {"男": "孙子", "女": "孙女"}}[generation][sex]
    return _person(rng, relation, sex, rng.randint(*ages), surname)


def _grant(rng: random.Random, member: Member, category: str) -> Member:
    """Put a person in a category, with the allowance or disability grade it implies."""
    if category not in member.categories:
        member.categories.append(category)
    if category == "dibao":
        member.monthly_allowance_fen = rng.randrange(150, 460, 10) * 100  # 150–450 元 a month
    elif category == "severe_disability":
        member.disability_grade = rng.choice((1, 1, 2))
    return member


def _address(rng: random.Random, village) -> str:
    return f"{village.place}{rng.randint(1, 12)}组{rng.randint(1, 90)}号"


def _family(rng: random.Random, village, head_ages=(28, 68), kids=(0, 2)) -> HouseholdPlan:
    """Draw a family of one to five: a head, often a spouse, some children, sometimes an old parent."""
    head_sex = _sex(rng, 0.75)
    head_age = rng.randint(*head_ages)
    surname = rng.choice(SURNAMES)
    members = [_person(rng, "本人", head_sex, head_age, surname)]
    kid_surname = surname if head_sex == "男" else None
    if rng.random() < 0.65:
        spouse_sex = "女" if head_sex == "男" else "男"
        spouse = _person(rng, "配偶", spouse_sex, max(20, head_age + rng.randint(-5, 5)))
        members.append(spouse)
        kid_surname = kid_surname or spouse.name[0]
    for _ in range(rng.randint(*kids)):
        members.append(_descendant(rng, "子女", (max(0, head_age - 40), max(0, head_age - 20)), kid_surname))
    if len(members) < 5 and head_age <= 60 and rng.random() < 0.2:
        sex = _sex(rng)
        old_surname = surname if sex == "男" and head_sex == "男" else None
        parent_age = min(95, head_age + rng.randint(22, 32))
        members.append(_person(rng, "父亲" if sex == "男" else "母亲", sex, parent_age, old_surname))
    return HouseholdPlan(members[:5], _address(rng, village))


def _dibao(rng, village):
    plan = _family(rng, village)
    for member in plan.members:
        _grant(rng, member, "dibao")
    return plan


def _with_one(category: str, dibao_share: float):
    """Make a family profile where one member has `category` and the household may also get 低保."""

    def profile(rng, village):
        plan = _family(rng, village)
        _grant(rng, rng.choice(plan.members), category)
        if rng.random() < dibao_share:
            for member in plan.members:
                _grant(rng, member, "dibao")
        return plan

    return profile


def _child_in_difficulty(rng, village):
    plan = _family(rng, village, head_ages=(24, 45), kids=(1, 3))
    children = [m for m in plan.members if m.relation in ("子", "女") and m.age < 18] or plan.members[-1:]
    _grant(rng, rng.choice(children), "child_in_difficulty")
    return plan


def _elderly(category: str, pair_share: float):
    """Make a profile of an old person living alone (sometimes a couple)."""

    def profile(rng, village):
        head_sex = _sex(rng, 0.55)
        members = [_person(rng, "本人", head_sex, rng.randint(62, 94))]
        if rng.random() < pair_share:
            members.append(_person(rng, "配偶", "女" if head_sex == "男" else "男", rng.randint(60, 92)))
        plan = HouseholdPlan(members, _address(rng, village))
        for member in members:
            _grant(rng, member, category)
            if len(members) == 1 and rng.random() < 0.4:
                _grant(rng, member, "lonely_elderly" if category != "lonely_elderly" else "dibao")
        if category == "tekun_dispersed":
            _care(rng, plan, relative=True)
        return plan

    return profile


def _care(rng: random.Random, plan: HouseholdPlan, relative: bool) -> None:
    """Give some households a tripartite care agreement, a named guardian, a wish for institutional care."""
    plan.care_agreement_signed = rng.random() < 0.7
    if relative and rng.random() < 0.6:
        plan.guardian = f"{_person(rng, '其他', _sex(rng), 40).name}（{rng.choice(('侄子', '侄女', '外甥', '邻居'))}）"
    plan.wants_institutional_care = relative and rng.random() < 0.2


def _grandchildren(category: str, count: tuple[int, int]):
    """Make a profile of grandparents bringing up grandchildren who belong to `category`."""

    def profile(rng, village):
        head_sex = _sex(rng, 0.6)
        surname = rng.choice(SURNAMES)
        head = _person(rng, "本人", head_sex, rng.randint(50, 78), surname)
        members = [head]
        if rng.random() < 0.6:
            members.append(_person(rng, "配偶", "女" if head_sex == "男" else "男", head.age + rng.randint(-5, 5)))
        kid_surname = surname if head_sex == "男" else members[-1].name[0] if len(members) > 1 else None
        for _ in range(rng.randint(*count)):
            kid = _descendant(rng, "孙", (1, 15), kid_surname)
            members.append(_grant(rng, kid, category))
        plan = HouseholdPlan(members, _address(rng, village))
        _care(rng, plan, relative=False)
        plan.guardian = f"{head.name}（{'祖父' if head_sex == '男' else '祖母'}）"
        return plan

    return profile


def _marginal(rng, village):
    """A 低保边缘 family: just above the 低保 line, watched by 主动发现 (a job lost, a stay in hospital)."""
    plan = _family(rng, village)
    for member in plan.members:
        _grant(rng, member, "dibao_marginal")
    return plan


def _vagrant(rng, village):
    member = _grant(rng, _person(rng, "本人", _sex(rng, 0.85), rng.randint(25, 65)), "vagrant")
    if rng.random() < 0.3:
        _grant(rng, member, "temporary_relief")
    return HouseholdPlan([member], _address(rng, village))


def _institution(label: str, ages: tuple[int, int], residents: tuple[int, int], categories: tuple[str, str]):
    """Make a profile of a care institution with several residents (the first one listed as head).

    Each resident has the first category, or the second instead for one in three (or as well, for
    old people: a 孤寡 resident of a care home is usually 特困 too).
    """

    def profile(rng, village):
        members = []
        for index in range(rng.randint(*residents)):
            member = _person(rng, "本人" if index == 0 else "其他", _sex(rng), rng.randint(*ages))
            members.append(_grant(rng, member, categories[rng.random() < 1 / 3]))
            if member.age >= 60:
                _grant(rng, member, categories[0])
        owner = village.township if label == "中心养老院" else village.county
        return HouseholdPlan(members, f"{village.place} {owner}{label}", kind="institution")

    return profile


# (profile, weight per 100 households); the order is also the order forced for full coverage
PROFILES = (
    (_dibao, 34),
    (_elderly("tekun_dispersed", 0.2), 9),
    (_elderly("lonely_elderly", 0.0), 7),
    (_with_one("severe_disability", 0.5), 10),
    (_with_one("serious_illness", 0.4), 10),
    (_grandchildren("left_behind_child", (1, 2)), 9),
    (_child_in_difficulty, 5),
    (_grandchildren("orphan", (1, 1)), 2),
    (_grandchildren("de_facto_orphan", (1, 2)), 3),
    (_with_one("temporary_relief", 0.3), 8),
    (_vagrant, 2.7),
    (_institution("中心养老院", (62, 95), (4, 12), ("tekun_central", "lonely_elderly")), 0.15),
    (_institution("儿童福利院", (1, 17), (3, 10), ("orphan", "de_facto_orphan")), 0.08),
    (_institution("救助站", (20, 59), (2, 6), ("vagrant", "temporary_relief")), 0.07),
    (_marginal, 3),
)
_PROFILE_FUNCTIONS = [p for p, _w in PROFILES]
_CUM_WEIGHTS = list(itertools.accumulate(w for _p, w in PROFILES))


def forced_profile(i: int, ordinal: int, position: int, is_demo_village: bool) -> int | None:
    """Return the profile a household must have so that every category shows up, or None to draw one.

    The first households of the run take every profile once; so do the first ones of each demo village.
    """
    if i < len(PROFILES):
        return i
    if is_demo_village and ordinal < len(PROFILES):
        return (ordinal + position) % len(PROFILES)
    return None


def plan_household(rng: random.Random, profile: int | None, village) -> HouseholdPlan:
    """Draw one household of the given (or a weighted random) profile."""
    if profile is None:
        make = rng.choices(_PROFILE_FUNCTIONS, cum_weights=_CUM_WEIGHTS)[0]
    else:
        make = _PROFILE_FUNCTIONS[profile]
    return make(rng, village)


def make_id_number(rng: random.Random, county: str, member: Member, used: set[str]) -> str:
    """Return a checksum-valid number for this person that is not in `used` (and add it there)."""
    odd = 1 if member.sex == "男" else 0  # the 17th digit is odd for men
    for attempt in range(1, 10_000):
        if attempt % 20 == 0:  # this birthday is crowded: the person was born a day earlier
            member.birth_date -= timedelta(days=1)
        first17 = f"{county}{member.birth_date:%Y%m%d}{rng.randrange(500) * 2 + odd:03d}"
        number = first17 + idnumber.check_digit(first17)
        if number not in used:
            used.add(number)
            return number
    raise Invalid("无法再生成不重复的身份证号")


def make_phone(rng: random.Random) -> str:
    """Return a made-up mobile number."""
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
