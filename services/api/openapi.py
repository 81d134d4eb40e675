"""The registry of /api/v1 operations, and the OpenAPI 3.1 document built from it and the pydantic schemas.

The API blueprint adds its routes from OPERATIONS, so a route cannot exist without its description.
"""

import re
from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from services.api.alert_schemas import AlertListOut
from services.api.candidate_schemas import CandidateIn, CandidateOut
from services.api.household_schemas import HouseholdListOut, HouseholdOut, MeOut
from services.api.offline_schemas import OfflinePackOut
from services.api.relief_schemas import DecisionIn, ReliefIn, ReliefOut, StaleOut
from services.api.schemas import (
    CoverageOut,
    ErrorOut,
    InvalidOut,
    PhotoIn,
    PhotoOut,
    VisitIn,
    VisitOut,
)
from services.inputs import MAX_ID

PREFIX = "/api/v1"
REF_TEMPLATE = "#/components/schemas/{model}"
RULE_PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
NO_BODY = (204, 304)

ERRORS = {
    400: "请求有误：缺少 X-CSRFToken 请求头时 error 为 csrf；上传照片的字段不合格式时为 invalid"
    "（如照片说明超过 32 字）；"
    "内容合乎格式但办不到时为 visit_refused、relief_refused、candidate_refused 或 photo_refused"
    "（如这户已退出、金额超出、走访时间不对、不是本人负责的村、照片无法识别），message 说明原因",
    401: "未登录或登录已过期（写操作也先查登录，再查 X-CSRFToken）",
    403: "没有权限，或须先修改初始密码",
    404: "不存在，或不在您的辖区内（两者不加区分）",
    409: "编号已用于不同的内容",
    413: "上传的文件太大",
    422: "提交的内容有误，fields 逐项说明",
}
OTHER_ERRORS = "其他错误，如 405 不支持的请求方式、429 操作太频繁、503 系统正忙（稍后重试）"


@dataclass(frozen=True)
class Query:
    """A query-string parameter."""

    name: str
    description: str
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Header(Query):
    """A request header the operation reads."""


@dataclass(frozen=True)
class Operation:
    """One API endpoint: its Flask rule (under PREFIX), what it takes and what it answers."""

    endpoint: str
    method: str
    rule: str
    summary: str
    ok: dict[int, tuple[str, type[BaseModel] | None]]  # success status → (description, body model)
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    multipart: bool = False
    query: tuple[Query, ...] = ()
    headers: tuple[Header, ...] = ()
    response_headers: dict[str, str] = field(default_factory=dict)  # sent with every success: name → description
    public: bool = False
    error_bodies: dict[int, tuple[str, type[BaseModel]]] = field(default_factory=dict)  # errors with their own body

    @property
    def path(self) -> str:
        """Return the OpenAPI path: /api/v1/households/{household_id}."""
        return PREFIX + RULE_PARAMETER.sub(r"{\2}", self.rule)

    @property
    def writes(self) -> bool:
        return self.method in WRITE_METHODS


ME = Operation("me", "GET", "/me", "当前登录的用户", ok={200: ("当前用户及其可见范围", MeOut)}, errors=(401, 403))
HOUSEHOLDS = Operation(
    "households",
    "GET",
    "/households",
    "辖区内的在册住户（搜索、分页）",
    ok={200: ("一页住户", HouseholdListOut)},
    errors=(401, 403),
    query=(
        Query("q", "姓名、户编号、电话或身份证号后四位"),
        Query("page", "页码，从 1 开始（不是数字时为第 1 页）", {"type": "integer", "minimum": 1, "default": 1}),
    ),
)
HOUSEHOLD = Operation(
    "household",
    "GET",
    "/households/<int:household_id>",
    "一户的详情：成员（身份证号已遮挡）、类别、服务卡、最近走访",
    ok={200: ("住户详情", HouseholdOut)},
    errors=(401, 403, 404),
)
CREATE_VISIT = Operation(
    "create_visit",
    "POST",
    "/visits",
    "登记一次走访（按 uuid 只记一次）",
    ok={201: ("已登记", VisitOut), 200: ("同一 uuid、同样内容已登记过：返回原走访", VisitOut)},
    errors=(400, 401, 403, 404, 409, 422),
    body=VisitIn,
)
ADD_PHOTO = Operation(
    "add_photo",
    "POST",
    "/visits/<uuid>/photos",
    "为走访上传一张照片（按照片 uuid 只存一次）",
    ok={201: ("已保存", PhotoOut), 200: ("同一照片编号、同一张照片已保存过：返回原照片", PhotoOut)},
    errors=(400, 401, 403, 404, 409, 413),
    body=PhotoIn,
    multipart=True,
)
OPENAPI = Operation(
    "openapi", "GET", "/openapi.json", "本接口说明（OpenAPI 3.1）", ok={200: ("OpenAPI 文档", None)}, public=True
)
CREATE_RELIEF = Operation(
    "create_relief",
    "POST",
    "/relief",
    "提出临时救助申请（按 uuid 只记一次；submit 为 false 时存为草稿）",
    ok={201: ("已登记", ReliefOut), 200: ("同一 uuid、同样内容已登记过：返回原申请", ReliefOut)},
    errors=(400, 401, 403, 404, 409, 422),
    body=ReliefIn,
)
RELIEF = Operation(
    "relief",
    "GET",
    "/relief/<int:application_id>",
    "一份临时救助申请：状态、版本号、当前用户可做的操作、全部经过",
    ok={200: ("申请详情", ReliefOut)},
    errors=(401, 403, 404),
)
DECIDE_RELIEF = Operation(
    "decide_relief",
    "POST",
    "/relief/<int:application_id>/decisions",
    "审批一份申请：批准、不批准、退回、报县级、登记发放、补齐材料（须带看到的版本号）",
    ok={200: ("已处理：返回处理后的申请", ReliefOut)},
    errors=(400, 401, 403, 404, 409, 422),
    body=DecisionIn,
    error_bodies={409: ("这份申请已被别人处理（版本号已变）：返回现在的状态和版本号，请刷新后再看", StaleOut)},
)
ADD_RELIEF_PHOTO = Operation(
    "add_relief_photo",
    "POST",
    "/relief/<uuid>/photos",
    "为救助申请上传一张证明材料照片（按照片 uuid 只存一次）",
    ok={201: ("已保存", PhotoOut), 200: ("同一照片编号、同一张照片已保存过：返回原照片", PhotoOut)},
    errors=(400, 401, 403, 404, 409, 413),
    body=PhotoIn,
    multipart=True,
)
CREATE_CANDIDATE = Operation(
    "create_candidate",
    "POST",
    "/candidates",
    "上报疑似困难户（按 uuid 只记一次）：成为本村的待核实对象，由乡镇核实",
    ok={201: ("已上报", CandidateOut), 200: ("同一 uuid、同样内容已上报过：返回原上报", CandidateOut)},
    errors=(400, 401, 403, 409, 422),
    body=CandidateIn,
)
ADD_CANDIDATE_PHOTO = Operation(
    "add_candidate_photo",
    "POST",
    "/candidates/<uuid>/photos",
    "为自己的上报添加一张照片（按照片 uuid 只存一次；去掉拍摄信息后重新压缩保存；一份上报最多 3 张）",
    ok={201: ("已保存", PhotoOut), 200: ("同一照片编号、同一张照片已保存过：返回原照片", PhotoOut)},
    errors=(400, 401, 403, 404, 409, 413),
    body=PhotoIn,
    multipart=True,
)
COVERAGE = Operation(
    "coverage",
    "GET",
    "/coverage",
    "排查专项的覆盖情况：应排查/已排查的户数和人数，按下一级地区分行",
    ok={200: ("覆盖情况", CoverageOut)},
    errors=(401, 403, 404),
    query=(
        Query(
            "campaign",
            "排查专项编号（默认为今天所在的专项；没有这个专项时 404）",
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        ),
        Query("area", "12 位区划代码（默认为本人所在地区）"),
    ),
)
OFFLINE_PACK = Operation(
    "offline_pack",
    "GET",
    "/offline-pack",
    "协理员的离线资料：本村在册住户（没有身份证号、没有户卡令牌）和派给本人的待核实预警，资料不变时 304",
    ok={
        200: ("离线资料（生成时间不计入 ETag）", OfflinePackOut),
        304: ("与 If-None-Match 相同：资料没有变化，没有内容", None),
    },
    errors=(401, 403),
    headers=(Header("If-None-Match", "上次收到的 ETag（原样带回）"),),
    response_headers={"ETag": "资料内容的标识，下次请求放在 If-None-Match", "Cache-Control": "private, no-cache"},
)
ALERTS = Operation(
    "alerts",
    "GET",
    "/alerts",
    "辖区内的主动发现预警（红色在前、到期早的在前，分页：答复里的 next 是下一页的地址）",
    ok={200: ("一页预警", AlertListOut)},
    errors=(400, 401, 403),
    query=(
        Query("state", "状态", {"type": "string", "enum": ["open", "assigned", "checked", "closed"]}),
        Query("household_id", "只看这一户的", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
        Query("page", "页码，从 1 开始（不是数字时为第 1 页）", {"type": "integer", "minimum": 1, "default": 1}),
    ),
)
OPERATIONS = (
    ME,
    OFFLINE_PACK,
    COVERAGE,
    HOUSEHOLDS,
    HOUSEHOLD,
    CREATE_VISIT,
    ADD_PHOTO,
    CREATE_RELIEF,
    RELIEF,
    DECIDE_RELIEF,
    ADD_RELIEF_PHOTO,
    CREATE_CANDIDATE,
    ADD_CANDIDATE_PHOTO,
    ALERTS,
    OPENAPI,
)


def document(cookie_name: str = "session", operations=OPERATIONS) -> dict:
    """Return the OpenAPI 3.1 document for the operations, schemas generated from their pydantic models."""
    refs, schemas = _schemas(operations)
    paths: dict[str, dict] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "兜底通 API",
            "version": "1",
            "description": "离线客户端使用的接口。登录后凭会话 Cookie 调用；写操作须带 X-CSRFToken 请求头"
            '（取自页面 <meta name="csrf-token">）。出错时返回 JSON：{"error": 代码, "message": 中文说明}。',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": cookie_name, "description": "登录后的会话 Cookie"}
            },
            "parameters": {
                "CsrfToken": {
                    "name": "X-CSRFToken",
                    "in": "header",
                    "required": True,
                    "description": '页面 <meta name="csrf-token"> 中的令牌',
                    "schema": {"type": "string"},
                }
            },
        },
        "security": [{"session": []}],
    }


def _schemas(operations) -> tuple[dict, dict]:
    """Return refs for (model, mode) and the components' schemas, one pydantic pass over every model."""
    inputs = {op.body for op in operations if op.body is not None}
    outputs = {model for op in operations for _, model in op.ok.values() if model is not None}
    outputs |= {InvalidOut if status == 422 else ErrorOut for op in operations for status in op.errors} | {ErrorOut}
    outputs |= {model for op in operations for _, model in op.error_bodies.values()}
    pairs = [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs]
    pairs.sort(key=lambda pair: (pair[0].__name__, pair[1]))  # a stable document
    refs, top = models_json_schema(pairs, ref_template=REF_TEMPLATE)
    return refs, top.get("$defs", {})


def _operation(operation: Operation, refs: dict) -> dict:
    result = {"operationId": operation.endpoint, "summary": operation.summary, "responses": {}}
    parameters = [_path_parameter(converter, name) for converter, name in RULE_PARAMETER.findall(operation.rule)]
    parameters += [
        {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema}
        for q in operation.query
    ]
    parameters += [
        {"name": h.name, "in": "header", "required": False, "description": h.description, "schema": h.schema}
        for h in operation.headers
    ]
    if operation.writes:
        parameters.append({"$ref": "#/components/parameters/CsrfToken"})
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        result["requestBody"] = _request_body(operation, refs[(operation.body, "validation")])
    for status, (description, model) in sorted(operation.ok.items()):
        answer = {"description": description}
        if status not in NO_BODY:
            answer = _response(description, refs.get((model, "serialization")))
        if operation.response_headers:
            answer["headers"] = {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in operation.response_headers.items()
            }
        result["responses"][str(status)] = answer
    for status in operation.errors:
        model = InvalidOut if status == 422 else ErrorOut
        description, model = operation.error_bodies.get(status, (ERRORS[status], model))
        result["responses"][str(status)] = _response(description, refs[(model, "serialization")])
    result["responses"]["default"] = _response(OTHER_ERRORS, refs[(ErrorOut, "serialization")])
    if operation.public:
        result["security"] = []
    return result


def _path_parameter(converter: str, name: str) -> dict:
    # app.py's <int:…> converter takes ASCII digits up to MAX_ID; anything larger is 404
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if converter == "int" else {"type": "string"}
    if name == "uuid" or name.endswith("_uuid"):
        schema["format"] = "uuid"
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _request_body(operation: Operation, ref: dict) -> dict:
    if operation.multipart:
        media = {"schema": ref, "encoding": {"file": {"contentType": "image/jpeg, image/png, image/webp"}}}
        return {"required": True, "content": {"multipart/form-data": media}}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _response(description: str, ref: dict | None) -> dict:
    if ref is None:
        return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
    return {"description": description, "content": {"application/json": {"schema": ref}}}
