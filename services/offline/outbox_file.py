"""An outbox file exported from a phone (导出未上传记录), uploaded by a township officer: read it within bounds,
then take each item through the API's own services, acting as the assistant whose phone it came from.

Each item is idempotent by its UUID, as the API is: the same file uploaded twice lands nothing the second time.
Items are independent: each is undone alone (a savepoint) when refused, and the others still land.
"""

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from sqlmodel import Session

from models import User
from services import audit
from services.api.candidate_schemas import CANDIDATE_WORDS, CandidateIn
from services.api.offline_schemas import OutboxFileIn, OutboxItemIn
from services.api.relief_schemas import RELIEF_WORDS, ReliefIn
from services.api.schemas import PhotoIn, VisitIn, validation_messages
from services.audit import Actor
from services.candidates import candidates
from services.candidates.photos import add_candidate_photo
from services.errors import DoudiError, Invalid, NotFound
from services.inputs import is_row_id
from services.names import household_label
from services.permissions import require
from services.registry.households import get_household_for
from services.relief import apply as relief_apply
from services.relief import evidence
from services.scope import is_in_scope
from services.visits import photos as visit_photos
from services.visits.visits import record_visit

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ITEMS = 500
MAX_PHOTOS = 9  # per visit or application, as the form takes them
MAX_PHOTO_BASE64 = 4 * -(-visit_photos.MAX_UPLOAD_BYTES // 3)  # the photo pipeline's own limit, in base64
MAX_DEPTH = 8  # file → items → item → payload → checklist → item → value, with one to spare
KINDS = {"visit": "走访", "relief": "临时救助", "candidate": "上报疑似困难户"}
STATUSES = {"imported": "已导入", "duplicate": "已有（重复）", "refused": "未导入"}
NOT_AN_OUTBOX = "这不是兜底通导出的未上传记录文件（doudi-outbox-….json），请让协理员在“我的”里重新导出"
ITEM_WORDS = {"kind": "记录类型", "payload": "记录内容", "photos": "照片", "jpeg_base64": "照片内容"}


@dataclass
class ItemResult:
    """What became of one item of the file."""

    number: int  # its place in the file, from 1
    kind: str
    status: str = "refused"
    reason: str = ""
    label: str = ""
    new_photos: int = 0

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, "记录")

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


@dataclass
class ImportResult:
    """The file's import: whose phone it came from, and each item's fate."""

    file_name: str
    assistant: User
    items: list[ItemResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(item.status for item in self.items)
        return {status: tally.get(status, 0) for status in STATUSES}


# ---- reading the file ---------------------------------------------------------------------------------------


def read_outbox(stream: BinaryIO | None) -> OutboxFileIn:
    """Read an uploaded outbox file within its bounds (size, depth, items); refuse anything else in plain words."""
    if stream is None:
        raise Invalid("请先选择协理员导出的未上传记录文件（.json）")
    data = stream.read(MAX_FILE_BYTES + 1)
    if not data:
        raise Invalid("文件是空的，请让协理员重新导出")
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"文件太大（超过 {MAX_FILE_BYTES // (1024 * 1024)} MB），请让协理员分几次导出")
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Invalid(NOT_AN_OUTBOX) from None
    except RecursionError:
        raise Invalid("文件的层次太深，不是兜底通导出的文件") from None
    except ValueError:  # not JSON, cut short, or a number too long to read
        raise Invalid("文件不完整或不是 JSON（可能没有导出完），请让协理员重新导出") from None
    if not isinstance(content, dict) or content.get("format") != "doudi-outbox":
        raise Invalid(NOT_AN_OUTBOX)
    if depth(content) > MAX_DEPTH:
        raise Invalid("文件的层次太深，不是兜底通导出的文件")
    if content.get("version") != 1:
        raise Invalid("文件的版本不对（应为第 1 版），请让协理员更新兜底通后重新导出")
    if isinstance(content.get("items"), list) and len(content["items"]) > MAX_ITEMS:
        raise Invalid(f"一个文件最多 {MAX_ITEMS} 条记录，这个文件有 {len(content['items'])} 条")
    try:
        return OutboxFileIn.model_validate(content)
    except ValidationError as problem:
        words = {"user": "协理员", "items": "记录", "username": "用户名", "id": "用户编号"}
        messages = "；".join(m["message"] for m in validation_messages(problem, words))
        raise Invalid(f"文件的格式不对：{messages}") from None


def depth(value) -> int:
    """Return how deeply lists and objects nest in parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:  # deeper than that is refused anyway: no need to walk on
            stack.extend((child, level + 1) for child in children)
    return deepest


def assistant_for(session: Session, officer: User, outbox: OutboxFileIn) -> User:
    """Return the assistant the file names: an active assistant account in the officer's scope, or refuse."""
    named = outbox.user
    assistant = session.get(User, named.id) if is_row_id(named.id) else None
    if assistant is None or assistant.username != named.username:
        raise Invalid(f"找不到文件中的协理员账号（{named.username}），请核对文件是否来自本乡镇的协理员")
    if assistant.role != "assistant" or not is_in_scope(officer, assistant.area_code):
        raise Invalid(f"文件中的账号（{assistant.display_name}）不是您辖区内的协理员，不能代为导入")
    if not assistant.active:
        raise Invalid(f"文件中的协理员（{assistant.display_name}）的账号已停用，不能代为导入")
    return assistant


# ---- importing -----------------------------------------------------------------------------------------------


def import_outbox(session: Session, actor: Actor, stream: BinaryIO | None, file_name: str, folder: Path):
    """Import every item of an outbox file as the assistant it names; audit it; return each item's fate.

    The caller commits. A refused file raises Invalid before anything is written.
    """
    require(actor.user, "outbox.import", message="只有乡镇经办员可以导入协理员导出的记录")
    outbox = read_outbox(stream)
    assistant = assistant_for(session, actor.user, outbox)
    as_assistant = Actor(user=assistant, ip=actor.ip)
    result = ImportResult(file_name=file_name, assistant=assistant)
    for number, raw in enumerate(outbox.items, start=1):
        result.items.append(_import_item(session, actor.user, as_assistant, number, raw, folder))
    audit.record(
        session,
        actor,
        "outbox.imported",
        assistant,
        assistant=assistant.username,
        file=file_name,
        counts=result.counts,
        photos=sum(item.new_photos for item in result.items),
        exported_at=outbox.exported_at,
    )
    return result


SCHEMAS = {
    "visit": VisitIn,
    "relief": ReliefIn,
    "candidate": CandidateIn,
}  # the API's own: a payload the API would refuse is refused here


def _import_item(session: Session, officer: User, as_assistant: Actor, number: int, raw, folder: Path) -> ItemResult:
    """Take one item through the API's services; a refusal undoes only this item and says why.

    The record lands first, then each photo on its own, as the phone sends them: a photo refused does not
    lose the visit typed at the door, and it is named in the reason.
    """
    kind = raw.get("kind") if isinstance(raw, dict) else None
    result = ItemResult(number=number, kind=kind if kind in KINDS else "")
    try:
        item = OutboxItemIn.model_validate(raw)
    except ValidationError as problem:
        result.reason = "；".join(m["message"] for m in validation_messages(problem, ITEM_WORDS))
        return result
    try:
        payload = SCHEMAS[item.kind].model_validate(item.payload)
    except ValidationError as problem:  # in the API's own words for each field
        words = {"relief": RELIEF_WORDS, "candidate": CANDIDATE_WORDS}.get(item.kind)
        result.reason = "；".join(m["message"] for m in validation_messages(problem, words))
        return result
    if len(item.photos) > MAX_PHOTOS:
        result.reason = f"一条记录最多 {MAX_PHOTOS} 张照片，这条有 {len(item.photos)} 张"
        return result
    if item.kind == "candidate":  # a family no roll knows: its village, not a household, must be the officer's
        if not is_in_scope(officer, payload.area_code):
            result.reason = "上报的村不在您的辖区，未导入"
            return result
        result.label = payload.name
    else:
        try:
            household = get_household_for(session, officer, payload.household_id)
        except NotFound:
            result.reason = "这户不在您的辖区，未导入"
            return result
        result.label = household_label(session, household)
    try:
        with session.begin_nested():  # undoes only this item's record when a service refuses it
            record, created = _record(session, as_assistant, item.kind, payload)
    except NotFound:  # the household left the assistant's village since the visit
        result.reason = f"这户已不在{as_assistant.user.display_name}的辖区（可能已迁出），请核实后在住户页面补登"
        return result
    except DoudiError as problem:
        result.reason = problem.message
        return result
    problems = [
        _add_photo(session, as_assistant, item.kind, record, index, photo, folder, result)
        for index, photo in enumerate(item.photos, start=1)
    ]
    problems = [problem for problem in problems if problem]
    result.reason = "；".join(problems)
    result.status = "imported" if created or result.new_photos else "refused" if problems else "duplicate"
    return result


def _record(session: Session, actor: Actor, kind: str, payload):
    """Record the visit, the application or the report through the API's own service; return (record, created)."""
    if kind == "visit":
        return record_visit(session, actor, payload)
    if kind == "candidate":
        report = candidates.FieldReport(str(payload.uuid), payload.name, payload.area_code, payload.description)
        return candidates.report(session, actor, report)
    return relief_apply.create_application(session, actor, payload)


def _add_photo(session: Session, actor: Actor, kind: str, record, index: int, raw, folder: Path, result) -> str:
    """Store one photo of the record on its own; return why it was refused ('' when stored or stored before)."""
    store = {"visit": visit_photos.add_photo, "candidate": add_candidate_photo}.get(kind, evidence.add_relief_photo)
    try:
        photo = _photo(raw)
        with session.begin_nested():  # undoes only this photo's row
            _stored, new = store(
                session, actor, record, uuid=str(photo.uuid), caption=photo.caption, data=photo.file, folder=folder
            )
    except DoudiError as problem:
        return f"第 {index} 张照片未导入：{problem.message}"
    result.new_photos += new
    return ""


def _photo(photo) -> PhotoIn:
    """Decode one photo of an item and hold it to the API's photo schema."""
    if len(photo.jpeg_base64) > MAX_PHOTO_BASE64:
        raise Invalid(f"照片太大（超过 {visit_photos.MAX_UPLOAD_BYTES // (1024 * 1024)} MB）")
    try:
        data = base64.b64decode(photo.jpeg_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("照片的内容不完整，无法读取") from None
    try:
        return PhotoIn(file=data, uuid=photo.uuid, caption=photo.caption)
    except ValidationError as problem:
        words = {"uuid": "照片编号"}
        raise Invalid("；".join(m["message"] for m in validation_messages(problem, words))) from None
