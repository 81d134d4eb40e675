"""The one vocabulary of refusals services raise; pages and the API each map it to a response in one place.

Every message is plain Chinese for the person at the phone. `code` is the API's stable error code;
`detail` carries extra facts the API puts in its body (the state and version now, for a stale decision).
"""


class DoudiError(Exception):
    """A refusal: nothing the caller asked for was done by the service that raised it."""

    status = 400
    default_code = "error"
    default_message = "出错了"

    def __init__(self, message: str | None = None, *, code: str | None = None, detail: dict | None = None):
        self.given = bool(message)  # False: the page or the API says what it says for this status
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.detail = detail or {}
        super().__init__(self.message)


class Invalid(DoudiError):
    """What was sent is wrong; `errors` maps each field to what is wrong with it ("form" for the whole)."""

    default_code = "invalid"
    default_message = "提交的内容有误"

    def __init__(self, errors: dict[str, str] | str, *, code: str | None = None, detail: dict | None = None):
        self.errors = {"form": errors} if isinstance(errors, str) else dict(errors)
        super().__init__("；".join(self.errors.values()), code=code, detail=detail)


class NotAllowed(DoudiError):
    """The user may not do this (HTTP 403); the scope check passed, or the user would have had a 404."""

    status = 403
    default_code = "not_allowed"
    default_message = "您没有权限做这件事"


class Stale(DoudiError):
    """Someone else changed the object since the user saw it (HTTP 409): refresh and look again."""

    status = 409
    default_code = "stale_version"
    default_message = "已被他人修改，请刷新后再看"


class Conflict(DoudiError):
    """It clashes with what is stored, such as an id used before for other content (HTTP 409)."""

    status = 409
    default_code = "conflict"
    default_message = "与已保存的内容冲突"


class NotFound(DoudiError):
    """There is no such object, or it lies outside the user's scope: the two are never told apart (HTTP 404)."""

    status = 404
    default_code = "not_found"
    default_message = "没有找到这个页面，或它不在您的辖区内"
