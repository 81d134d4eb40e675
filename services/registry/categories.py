"""Assistance categories a person may belong to, and how rosters spell them."""

CATEGORIES = {
    "dibao": "低保",
    "dibao_marginal": "低保边缘",  # 低保边缘家庭: watched for falling into 低保 (人社's unemployment list)
    "tekun_central": "特困（集中供养）",
    "tekun_dispersed": "特困（分散供养）",
    "orphan": "孤儿",
    "de_facto_orphan": "事实无人抚养儿童",
    "left_behind_child": "留守儿童",
    "child_in_difficulty": "困境儿童",
    "lonely_elderly": "孤寡老人",
    "serious_illness": "重病",
    "severe_disability": "重残",
    "vagrant": "流浪乞讨",
    "temporary_relief": "临时救助",
}

# Words seen in county rosters, longest first so that 特困 does not swallow 特困(分散供养).
_ROSTER_WORDS = [
    ("事实无人抚养", "de_facto_orphan"),
    ("分散供养", "tekun_dispersed"),
    ("集中供养", "tekun_central"),
    ("留守儿童", "left_behind_child"),
    ("困境儿童", "child_in_difficulty"),
    ("孤寡", "lonely_elderly"),
    ("孤儿", "orphan"),
    ("重度残疾", "severe_disability"),
    ("重残", "severe_disability"),
    ("重病", "serious_illness"),
    ("流浪", "vagrant"),
    ("临时救助", "temporary_relief"),
    ("低保边缘", "dibao_marginal"),
    ("低保", "dibao"),
]


def label(code: str) -> str:
    """Return the Chinese label of a category code."""
    return CATEGORIES.get(code, code)


def parse_roster_categories(text) -> list[str]:
    """Turn a roster cell such as '低保、重残' or '特困(集中供养)' into category codes."""
    remaining = str(text or "").replace("(", "（").replace(")", "）")
    found: list[str] = []
    for word, code in _ROSTER_WORDS:
        if word in remaining:
            remaining = remaining.replace(word, " ")
            if code not in found:
                found.append(code)
    # A bare 特困 with no 集中/分散 is most often 分散供养 (people living at home).
    if "特困" in remaining and not any(code.startswith("tekun") for code in found):
        found.append("tekun_dispersed")
    return found
