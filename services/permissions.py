"""Who may do what: the one table of roles and capabilities, and `can(user, capability, obj=None)`.

Scope (which households a user sees at all) is services/scope.py's business; this table says what a
user may *do* with what they see. Views and templates ask `can()`; no role list stands anywhere else.
"""

from collections.abc import Callable
from dataclasses import dataclass

from services.errors import NotAllowed

ROLES = {
    "assistant": "村协理员",
    "township": "乡镇经办员",
    "county": "县（区）民政局",
    "city": "市民政局",
    "admin": "系统管理员",
}
ROLE_RANK = {"assistant": 1, "township": 2, "county": 3, "city": 4, "admin": 5}  # a manager gives roles up to theirs

OFFICERS = ("township", "county", "city", "admin")  # everyone above the village
MANAGERS = ("county", "city", "admin")
CITY = ("city", "admin")
# Which level decides a relief application in each state: the township up to its limit, the county above it.
DECIDING_ROLE = {"submitted": "township", "forwarded": "county"}


def _writer(user, application) -> bool:
    return application.created_by_id == user.id


def _writer_or_township(user, application) -> bool:
    # a township officer may take over a draft an assistant left (recorded as such in the audit trail)
    return _writer(user, application) or user.role == "township"


def _deciding_level(user, application) -> bool:
    return DECIDING_ROLE.get(application.state) == user.role


@dataclass(frozen=True)
class Capability:
    """The roles that hold a capability, and the further check an object must pass (None: the role is enough)."""

    roles: tuple[str, ...]
    label: str
    check: Callable | None = None


CAPABILITIES = {
    # the register
    "household.exit": Capability(OFFICERS, "让住户退出或恢复在册"),
    "need.settle": Capability(OFFICERS, "处理诉求、标为已解决"),  # assistants raise and follow needs
    "imports.run": Capability(OFFICERS, "导入花名册"),
    "hotlines.edit": Capability(OFFICERS, "修改乡镇和县（区）服务电话"),
    "users.manage": Capability(MANAGERS, "管理账号"),
    # cards
    "card.reissue": Capability(OFFICERS, "补办服务卡"),
    "cards.print": Capability(OFFICERS, "打印户卡"),
    # visits
    "visits.own_round": Capability(("assistant",), "自己走访住户：扫码、首页待走访"),
    "visits.assistant_loads": Capability(("township",), "首页查看各协理员逾期未走访"),
    # offline field work (issue 12)
    "offline.pack": Capability(("assistant",), "下载本村离线资料（没有身份证号）"),
    "outbox.import": Capability(("township",), "导入协理员导出的未上传记录"),
    "frequencies.set": Capability(CITY, "设置走访频次"),
    # temporary relief
    "relief.raise": Capability(("assistant", "township"), "提出临时救助申请"),
    "relief.edit": Capability(("assistant", "township"), "修改自己的草稿或退回的申请", _writer),
    "relief.submit": Capability(("assistant", "township"), "提交申请", _writer_or_township),
    "relief.add_evidence": Capability(("assistant", "township", "county"), "上传证明材料"),
    "relief.queue": Capability(OFFICERS, "查看审批列表"),
    "relief.decide": Capability(("township", "county"), "审批（批准、不批准、退回）", _deciding_level),
    "relief.forward": Capability(("township",), "报县级审批"),
    "relief.pay": Capability(("township", "county"), "登记发放、补齐先行救助材料"),
    "relief.overview": Capability(OFFICERS, "查看临时救助统计和备用金"),
    "funds.edit": Capability(MANAGERS, "设置乡镇审批额度和备用金"),
    # campaigns and reports
    "campaign.create": Capability(CITY, "创建排查专项"),
    "statistics.download": Capability(OFFICERS, "下载统计表"),
    "work_report.read": Capability(("county", "city", "admin"), "查看县（区）工作报告"),
    "work_report.write": Capability(("county",), "撰写和报送本县（区）工作报告"),
    "work_report.return": Capability(CITY, "退回县（区）工作报告"),
    # 主动发现 (issue 14)
    "alerts.view": Capability(("assistant", *OFFICERS), "查看辖区内的主动发现预警"),
    "alerts.close": Capability(("township", "county"), "不经走访办结预警（写明结果，排除须说明理由）"),
    "alerts.rules": Capability(CITY, "设置主动发现规则：开关、核实期限和阈值"),
    # care (issue 14): the village's assistant (scope keeps them to it) and the township record; the county places
    "care.record": Capability(("assistant", "township"), "登记、修改、终止照料协议，上传签字照片"),
    "institution.request": Capability(("assistant", "township"), "登记集中供养申请"),
    "institution.list": Capability(OFFICERS, "查看集中供养申请列表"),
    "institution.confirm": Capability(("township",), "确认集中供养申请（或不予安置）"),
    "institution.place": Capability(("county",), "安置到本县（区）的供养机构（或不予安置）"),
    "signals.import": Capability(("county",), "导入其他部门名单（医保、残联、死亡、失业登记）"),
    "candidates.view": Capability(("assistant", *OFFICERS), "查看辖区内的待核实对象"),
    "candidates.settle": Capability(("township",), "处理待核实对象：已登记或排除"),
    "candidates.report": Capability(("assistant",), "上报疑似困难户"),
    # subsidy payouts (issue 13)
    "payouts.view": Capability(OFFICERS, "查看补贴发放：到没到、失败、漏发和整改"),
    # the household page's 补贴到账: officers, and the village's assistant (scope keeps them to their village)
    "payouts.household": Capability((*OFFICERS, "assistant"), "在住户页查看这户的补贴到账情况"),
    "payouts.import": Capability(("county",), "导入一卡通发放结果文件"),
    "payouts.rolls": Capability(("county",), "导出应发名册"),
    "payouts.standards": Capability(CITY, "设置补贴项目、标准和价格临时补贴"),
    "corrections.close": Capability(("township", "county"), "办结整改事项（补发、追回、更正账户、核实无误）"),
}


def can(user, capability: str, obj=None) -> bool:
    """Tell whether the user may use the capability (on obj, when the capability checks objects)."""
    rule = CAPABILITIES[capability]  # a misspelt capability is a programming error, not a refusal
    if user is None or not getattr(user, "is_authenticated", False) or user.role not in rule.roles:
        return False
    return rule.check is None or obj is None or rule.check(user, obj)


def require(user, capability: str, obj=None, message: str | None = None) -> None:
    """Raise NotAllowed unless the user may use the capability."""
    if not can(user, capability, obj):
        raise NotAllowed(message)


def holders(capability: str) -> tuple[str, ...]:
    """Return the roles that hold a capability (for queries and the OpenAPI description)."""
    return CAPABILITIES[capability].roles


def assignable_roles(manager) -> list[str]:
    """Return the roles a manager may give: never above their own."""
    if not can(manager, "users.manage"):
        return []
    return [role for role, rank in ROLE_RANK.items() if rank <= ROLE_RANK[manager.role]]


def outranks(user, manager) -> bool:
    """Tell whether the user's role sits above the manager's (then the manager may not touch the account)."""
    return ROLE_RANK[user.role] > ROLE_RANK[manager.role]
