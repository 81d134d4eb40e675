"""What a visit records: checklist items, self-checks by category, changes, needs, risks (labels in Chinese)."""

KINDS = {"survey": "排查回访", "routine": "定期走访", "adhoc": "临时探视"}
RISKS = {"normal": "正常", "attention": "关注", "urgent": "紧急"}

CHECKLIST = {
    "housing": "住房安全",
    "water": "饮水",
    "food": "口粮/食物",
    "clothing": "衣被取暖",
    "medical": "就医用药",
    "school": "子女上学",
    "care": "日常照料（平日有人照应、生病有人看护）",
}

# Self-checks shown only when a member has one of the categories; each is a yes/no question.
SELF_CHECKS = {
    "payment_received": ("本月保障金已到账", ("dibao", "tekun_central", "tekun_dispersed")),
    "amount_as_expected": ("到账金额与标准相符", ("dibao", "tekun_central", "tekun_dispersed")),
    "care_agreement_signed": ("已签订三方委托照料服务协议", ("tekun_dispersed",)),
    # a "no" raises the 主动发现 alert care_duties_not_kept at once (services/care/from_visit.py)
    "caregiver_present": ("照料人尽责：平日有人照应、生病有人看护", ("tekun_dispersed", "left_behind_child")),
    "wants_institutional_care": ("本人有集中供养意愿", ("tekun_dispersed",)),
    "guardian_confirmed": (
        "监护人明确，已签委托监护确认书",
        ("orphan", "de_facto_orphan", "left_behind_child", "child_in_difficulty"),
    ),
    "child_in_school": ("适龄儿童正常上学", ("orphan", "de_facto_orphan", "left_behind_child", "child_in_difficulty")),
    "elderly_safe": ("居住安全，无火灾、跌倒等隐患", ("lonely_elderly",)),
    "treatment_ok": ("用药、康复治疗正常", ("serious_illness", "severe_disability")),
    "disability_allowance_received": ("残疾人两项补贴已到账", ("severe_disability",)),
    "referred_to_station": ("已转介救助管理站", ("vagrant",)),
}

CHANGES = {
    "moved_out": "有成员迁出",
    "died": "有成员去世",
    "started_work": "有成员外出务工/就业",
    "new_income": "家庭收入增加",
    "hospitalised": "有成员住院",
}

NEED_TYPES = {
    "supplies": "生活物资",
    "medical": "医疗",
    "housing": "住房",
    "education": "教育",
    "care": "照料",
    "temporary_relief": "临时救助",
    "dibao": "纳入低保",
    "institutional_care": "集中供养",
    "counselling": "心理疏导",
    "employment": "就业",
    "other": "其他",
    "review": "复核",  # raised by a change since the last visit, for the township
}
NEED_STATUSES = {"open": "待处理", "in_progress": "处理中", "resolved": "已解决"}
PHOTO_CAPTIONS = ("住房", "厨房", "床铺", "饮水", "院落", "药品", "证件", "其他")


def self_checks_for(categories) -> dict[str, str]:
    """Return the self-check questions that apply to a household with these categories."""
    present = set(categories)
    return {key: label for key, (label, applies) in SELF_CHECKS.items() if present & set(applies)}
