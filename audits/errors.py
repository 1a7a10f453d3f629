"""The domain's errors: what went wrong, in the domain's words, with no HTTP in sight.

Services, selectors and models raise these; the HTTP edge alone turns them into status
codes and problem+json (`audits/problems.py`, through the API's exception handler). Every
`code` an error answer can carry, whoever raises it (a verb, DRF's parsing and validation,
the middleware), is one member of `ErrorCode`: the OpenAPI document lists them, and tests
hold the status table and the English catalogue to them. A new code is added here first.
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Message = str | Promise


class ErrorCode(StrEnum):
    # --- the request itself, refused before any verb runs (API layer, DRF, middleware)
    BAD_REQUEST = "bad_request"
    BAD_CONTENT_LENGTH = "bad_content_length"
    PARSE_ERROR = "parse_error"
    TOO_DEEP = "too_deep"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - a code, not a secret
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    URI_TOO_LONG = "uri_too_long"
    HEADER_FIELDS_TOO_LARGE = "header_fields_too_large"
    EXPECTATION_FAILED = "expectation_failed"
    NOT_IMPLEMENTED = "not_implemented"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    # A status that has no code of its own (the middleware's fallback).
    ERROR = "error"

    # --- a field of the request (`errors` names the fields); the code is the first rule
    # that failed: ours, or DRF's own field rule
    INVALID = "invalid"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    DATE = "date"
    DATETIME = "datetime"
    EMPTY = "empty"
    INVALID_CHOICE = "invalid_choice"
    MAKE_AWARE = "make_aware"
    MAX_DECIMAL_PLACES = "max_decimal_places"
    MAX_DIGITS = "max_digits"
    MAX_LENGTH = "max_length"
    MAX_STRING_LENGTH = "max_string_length"
    MAX_VALUE = "max_value"
    MAX_WHOLE_DIGITS = "max_whole_digits"
    MIN_LENGTH = "min_length"
    MIN_VALUE = "min_value"
    NOT_A_DICT = "not_a_dict"
    NOT_A_LIST = "not_a_list"
    OVERFLOW = "overflow"

    # --- signing in
    BAD_CREDENTIALS = "bad_credentials"

    # --- the draw and visits added by hand
    FRAME_OUTSIDE_CAMPAIGN = "frame_outside_campaign"
    LEVEL_NOT_BELOW_FRAME = "level_not_below_frame"
    BAD_SIZE = "bad_size"
    BAD_SEED = "bad_seed"
    FRAME_TOO_SMALL = "frame_too_small"
    TARGET_OUTSIDE_CAMPAIGN = "target_outside_campaign"
    ALREADY_DRAWN = "already_drawn"
    NO_TEAMS = "no_teams"
    DRAW_SEALED = "draw_sealed"
    ALREADY_TARGETED = "already_targeted"
    CONFLICT_OF_INTEREST = "conflict_of_interest"

    # --- lifecycles and concurrency
    WRONG_STATE = "wrong_state"
    FINDINGS_UNREVIEWED = "findings_unreviewed"
    VISIT_NOT_CLOSED = "visit_not_closed"
    CONFLICT = "conflict"
    ID_CONFLICT = "id_conflict"
    ID_UNUSABLE = "id_unusable"
    STALE_VERSION = "stale_version"
    IF_MATCH_REQUIRED = "if_match_required"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    UNPROCESSABLE = "unprocessable"

    # --- photo evidence
    PHOTO_TOO_LARGE = "photo_too_large"
    UPLOAD_TOO_LARGE = "upload_too_large"
    SHA256_MISMATCH = "sha256_mismatch"
    UPLOAD_BUSY = "upload_busy"
    OFFSET_MISMATCH = "offset_mismatch"
    PHOTO_NOT_READY = "photo_not_ready"
    PHOTOS_CLOSED = "photos_closed"
    BODY_INCOMPLETE = "body_incomplete"

    # --- bulletins
    UNIT_OUTSIDE_JURISDICTION = "unit_outside_jurisdiction"
    PERIOD_REVERSED = "period_reversed"
    PERIOD_IN_FUTURE = "period_in_future"
    PERIOD_TOO_LONG = "period_too_long"
    NOT_ISSUED = "not_issued"
    BULLETIN_BUSY = "bulletin_busy"
    BULLETIN_NOT_READY = "bulletin_not_ready"
    ALREADY_ISSUED = "already_issued"
    NOT_A_RECIPIENT = "not_a_recipient"


_FIELD_RULE = _("提交的数据有误。")

# What each code means, said to a person: the default message of an error raised without
# one of its own, and what the catalogue must translate.
MESSAGES: dict[ErrorCode, Message] = {
    ErrorCode.BAD_REQUEST: _("请求无效。"),
    ErrorCode.BAD_CONTENT_LENGTH: _("Content-Length 无效。"),
    ErrorCode.PARSE_ERROR: _("请求体格式错误。"),
    ErrorCode.TOO_DEEP: _("JSON 嵌套过深。"),
    ErrorCode.NOT_AUTHENTICATED: _("未提供身份认证信息。"),
    ErrorCode.AUTHENTICATION_FAILED: _("身份认证失败。"),
    ErrorCode.BAD_AUTHORIZATION_HEADER: _("Authorization 请求头格式错误。"),
    ErrorCode.TOKEN_NOT_VALID: _("令牌无效或已失效。"),
    ErrorCode.PERMISSION_DENIED: _("无权操作。"),
    ErrorCode.NOT_FOUND: _("未找到。"),
    ErrorCode.METHOD_NOT_ALLOWED: _("不允许的请求方法。"),
    ErrorCode.NOT_ACCEPTABLE: _("无法提供所请求的格式。"),
    ErrorCode.PAYLOAD_TOO_LARGE: _("请求体过大。"),
    ErrorCode.URI_TOO_LONG: _("URI 过长。"),
    ErrorCode.HEADER_FIELDS_TOO_LARGE: _("请求头过大。"),
    ErrorCode.EXPECTATION_FAILED: _("无法满足 Expect 请求头。"),
    ErrorCode.NOT_IMPLEMENTED: _("不支持的传输编码。"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: _("不支持的媒体类型。"),
    ErrorCode.THROTTLED: _("请求过于频繁。"),
    ErrorCode.SERVER_ERROR: _("服务器内部错误。"),
    ErrorCode.ERROR: _("错误。"),
    ErrorCode.INVALID: _FIELD_RULE,
    ErrorCode.INVALID_CURSOR: _("无效的同步游标。"),
    ErrorCode.INVALID_IDEMPOTENCY_KEY: _("Idempotency-Key 须为 1 到 255 个字符。"),
    ErrorCode.DATE: _FIELD_RULE,
    ErrorCode.DATETIME: _FIELD_RULE,
    ErrorCode.EMPTY: _FIELD_RULE,
    ErrorCode.INVALID_CHOICE: _FIELD_RULE,
    ErrorCode.MAKE_AWARE: _FIELD_RULE,
    ErrorCode.MAX_DECIMAL_PLACES: _FIELD_RULE,
    ErrorCode.MAX_DIGITS: _FIELD_RULE,
    ErrorCode.MAX_LENGTH: _FIELD_RULE,
    ErrorCode.MAX_STRING_LENGTH: _FIELD_RULE,
    ErrorCode.MAX_VALUE: _FIELD_RULE,
    ErrorCode.MAX_WHOLE_DIGITS: _FIELD_RULE,
    ErrorCode.MIN_LENGTH: _FIELD_RULE,
    ErrorCode.MIN_VALUE: _FIELD_RULE,
    ErrorCode.NOT_A_DICT: _FIELD_RULE,
    ErrorCode.NOT_A_LIST: _FIELD_RULE,
    ErrorCode.OVERFLOW: _FIELD_RULE,
    ErrorCode.BAD_CREDENTIALS: _("用户名或密码错误。"),
    ErrorCode.FRAME_OUTSIDE_CAMPAIGN: _("抽样范围须在本专题所属单位之内。"),
    ErrorCode.LEVEL_NOT_BELOW_FRAME: _("抽取层级须低于抽样范围单位的层级。"),
    ErrorCode.BAD_SIZE: _("抽取数量须为正整数。"),
    ErrorCode.BAD_SEED: _("抽签种子无效。"),
    ErrorCode.FRAME_TOO_SMALL: _("抽样范围内可抽取的单位少于抽取数量。"),
    ErrorCode.TARGET_OUTSIDE_CAMPAIGN: _("检查对象须在本专题所属单位之内。"),
    ErrorCode.ALREADY_DRAWN: _("本专题已经抽取过检查对象（already drawn）。"),
    ErrorCode.NO_TEAMS: _("没有可用的暗访组，请先组建暗访组。"),
    ErrorCode.DRAW_SEALED: _("专题结束之后才公开抽签种子。"),
    ErrorCode.ALREADY_TARGETED: _("本专题已安排对该单位的检查。"),
    ErrorCode.CONFLICT_OF_INTEREST: _("利益冲突。"),
    ErrorCode.WRONG_STATE: _("对象当前状态不允许此操作。"),
    ErrorCode.FINDINGS_UNREVIEWED: _("仍有未审核的问题。"),
    ErrorCode.VISIT_NOT_CLOSED: _("检查结束后才能通报问题。"),
    ErrorCode.CONFLICT: _("与现有数据冲突。"),
    ErrorCode.ID_CONFLICT: _("该 id 已被使用。"),
    ErrorCode.ID_UNUSABLE: _("该 id 不可用，请换用新生成的 UUID。"),
    ErrorCode.STALE_VERSION: _("对象已被修改，请刷新后重试。"),
    ErrorCode.IF_MATCH_REQUIRED: _("修改需要 If-Match 请求头。"),
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: _("相同 Idempotency-Key 的请求仍在处理中。"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: _("该 Idempotency-Key 已用于另一个请求。"),
    ErrorCode.UNPROCESSABLE: _("请求无法处理。"),
    ErrorCode.PHOTO_TOO_LARGE: _("照片过大。"),
    ErrorCode.UPLOAD_TOO_LARGE: _("数据超出上传声明的大小。"),
    ErrorCode.SHA256_MISMATCH: _("文件的 SHA-256 与声明的不一致，未保存。"),
    ErrorCode.UPLOAD_BUSY: _("该上传正在被另一请求写入。"),
    ErrorCode.OFFSET_MISMATCH: _("Upload-Offset 与服务器的偏移不一致。"),
    ErrorCode.PHOTO_NOT_READY: _("照片尚未处理完成。"),
    ErrorCode.PHOTOS_CLOSED: _("此时不能再添加照片。"),
    ErrorCode.BODY_INCOMPLETE: _("请求体未完整到达，未保存。"),
    ErrorCode.UNIT_OUTSIDE_JURISDICTION: _("该单位不在您的管辖范围内。"),
    ErrorCode.PERIOD_REVERSED: _("截止日期不能早于起始日期。"),
    ErrorCode.PERIOD_IN_FUTURE: _("通报期间不能晚于今天。"),
    ErrorCode.PERIOD_TOO_LONG: _("通报期间不能超过 366 天。"),
    ErrorCode.NOT_ISSUED: _("只能更正已印发的通报。"),
    ErrorCode.BULLETIN_BUSY: _("另一位经办人正在修改这份通报草稿，请稍后刷新再试。"),
    ErrorCode.BULLETIN_NOT_READY: _("通报尚未生成完毕。"),
    ErrorCode.ALREADY_ISSUED: _("这份通报已经印发，不能再次印发或修改。"),
    ErrorCode.NOT_A_RECIPIENT: _("您不是这份通报的接收人，只能签收发给自己的通报。"),
}


class DomainError(Exception):
    """Something the domain refuses. `code` says what (an `ErrorCode`), `message` says it to
    a person, `errors` names the fields at fault ({field: [message, …]})."""

    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(
        self,
        message: Message | None = None,
        *,
        code: ErrorCode | None = None,
        errors: Mapping[str, Sequence[Message]] | None = None,
    ) -> None:
        if code is not None:
            self.code = ErrorCode(code)
        self.message: Message = MESSAGES[self.code] if message is None else message
        self.errors = errors
        super().__init__(str(self.message))


class Invalid(DomainError):
    """Fields of the request are wrong: `errors` says which and why."""

    code = ErrorCode.INVALID

    def __init__(
        self, errors: Mapping[str, Sequence[Message]], *, code: ErrorCode = ErrorCode.INVALID
    ) -> None:
        super().__init__(code=code, errors=errors)


class IdUnusable(Invalid):
    """A client-chosen id that cannot be used: taken by something the caller may not see.

    Malformed and reserved ids get exactly this answer from the serializers
    (`audits.api.util.ClientId`): `id_unusable` on `id`, whatever the reason, so the answer
    never tells that an unseen object holds the id.
    """

    def __init__(self, field: str = "id") -> None:
        super().__init__({field: [MESSAGES[ErrorCode.ID_UNUSABLE]]}, code=ErrorCode.ID_UNUSABLE)


class NotAuthenticated(DomainError):
    """Who is asking could not be established (a wrong password, a spent token)."""

    code = ErrorCode.NOT_AUTHENTICATED


class Forbidden(DomainError):
    """The actor sees the object but may not do this to it."""

    code = ErrorCode.PERMISSION_DENIED


class NotFound(DomainError):
    """Missing, or outside what the actor may see: the two are never told apart."""

    code = ErrorCode.NOT_FOUND


class WrongState(DomainError):
    code = ErrorCode.WRONG_STATE


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class PreconditionFailed(DomainError):
    code = ErrorCode.STALE_VERSION


class PreconditionRequired(DomainError):
    code = ErrorCode.IF_MATCH_REQUIRED


class Unprocessable(DomainError):
    code = ErrorCode.UNPROCESSABLE


class PayloadTooLarge(DomainError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedType(DomainError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class Throttled(DomainError):
    """Too much at once; `wait` is how many seconds until it may be tried again."""

    code = ErrorCode.THROTTLED

    def __init__(self, message: Message | None = None, *, wait: float) -> None:
        super().__init__(message)
        self.wait = wait
