"""How an alert ends: the outcomes a check may record and where a 转介 goes (no imports: the API schemas use them)."""

OPEN_STATES = ("open", "assigned")  # not checked yet: open for the township, or a task of an assistant
OUTCOMES = {
    "dibao": "纳入低保",
    "tekun": "纳入特困",
    "relief": "临时救助",
    "referral": "转介",
    "resolved": "已解决",
    "excluded": "排除",
}
REFERRALS = {"medical": "医保", "disability": "残联", "education": "教育", "station": "救助管理站"}
NOTE_MAX = 500
# the outcomes that need a note: where and why it was referred, why it is not a case
NOTE_REQUIRED = {"referral": "转介请写明情况（转给谁、为什么）", "excluded": "排除请写明理由"}
NO_OUTCOME = "请选择核实结果"
NO_REFERRAL = "请选择转介到哪里"
