"""The answer to every failed request under /api/: `application/problem+json` (RFC 9457).

The HTTP edge's own module: the API's exception handler, the middleware and the error pages
all answer through it, and it is where each error code (`audits.errors.ErrorCode`) gets its
status. Nothing in the domain imports it.
"""

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext as _

from audits.errors import MESSAGES, ErrorCode, Message

PROBLEM_JSON = "application/problem+json"
E = ErrorCode

# The one place an error code becomes an HTTP status. `error` has none of its own: it is
# what the middleware calls a status that reached it without a problem body.
STATUS: dict[ErrorCode, int] = {
    **dict.fromkeys(
        [
            E.BAD_REQUEST,
            E.BAD_CONTENT_LENGTH,
            E.PARSE_ERROR,
            E.TOO_DEEP,
            E.INVALID,
            E.INVALID_CURSOR,
            E.INVALID_IDEMPOTENCY_KEY,
            E.ID_UNUSABLE,
            E.DATE,
            E.DATETIME,
            E.EMPTY,
            E.INVALID_CHOICE,
            E.MAKE_AWARE,
            E.MAX_DECIMAL_PLACES,
            E.MAX_DIGITS,
            E.MAX_LENGTH,
            E.MAX_STRING_LENGTH,
            E.MAX_VALUE,
            E.MAX_WHOLE_DIGITS,
            E.MIN_LENGTH,
            E.MIN_VALUE,
            E.NOT_A_DICT,
            E.NOT_A_LIST,
            E.OVERFLOW,
            E.FRAME_OUTSIDE_CAMPAIGN,
            E.LEVEL_NOT_BELOW_FRAME,
            E.BAD_SIZE,
            E.BAD_SEED,
            E.FRAME_TOO_SMALL,
            E.TARGET_OUTSIDE_CAMPAIGN,
            E.BODY_INCOMPLETE,
            E.UNIT_OUTSIDE_JURISDICTION,
            E.PERIOD_REVERSED,
            E.PERIOD_IN_FUTURE,
            E.PERIOD_TOO_LONG,
            E.NOT_ISSUED,
        ],
        400,
    ),
    **dict.fromkeys(
        [
            E.NOT_AUTHENTICATED,
            E.AUTHENTICATION_FAILED,
            E.BAD_AUTHORIZATION_HEADER,
            E.TOKEN_NOT_VALID,
            E.BAD_CREDENTIALS,
        ],
        401,
    ),
    **dict.fromkeys([E.PERMISSION_DENIED, E.NOT_A_RECIPIENT], 403),
    E.NOT_FOUND: 404,
    E.METHOD_NOT_ALLOWED: 405,
    E.NOT_ACCEPTABLE: 406,
    **dict.fromkeys(
        [
            E.WRONG_STATE,
            E.FINDINGS_UNREVIEWED,
            E.VISIT_NOT_CLOSED,
            E.ALREADY_DRAWN,
            E.NO_TEAMS,
            E.DRAW_SEALED,
            E.ALREADY_TARGETED,
            E.CONFLICT_OF_INTEREST,
            E.CONFLICT,
            E.ID_CONFLICT,
            E.IDEMPOTENCY_IN_PROGRESS,
            E.UPLOAD_BUSY,
            E.OFFSET_MISMATCH,
            E.PHOTO_NOT_READY,
            E.PHOTOS_CLOSED,
            E.BULLETIN_BUSY,
            E.BULLETIN_NOT_READY,
            E.ALREADY_ISSUED,
        ],
        409,
    ),
    E.STALE_VERSION: 412,
    E.URI_TOO_LONG: 414,
    E.EXPECTATION_FAILED: 417,
    E.HEADER_FIELDS_TOO_LARGE: 431,
    E.NOT_IMPLEMENTED: 501,
    **dict.fromkeys([E.PAYLOAD_TOO_LARGE, E.PHOTO_TOO_LARGE, E.UPLOAD_TOO_LARGE], 413),
    E.UNSUPPORTED_MEDIA_TYPE: 415,
    **dict.fromkeys([E.UNPROCESSABLE, E.SHA256_MISMATCH, E.IDEMPOTENCY_KEY_REUSED], 422),
    E.IF_MATCH_REQUIRED: 428,
    E.THROTTLED: 429,
    E.SERVER_ERROR: 500,
}


def _titles() -> dict[int, str]:
    return {
        400: _("请求无效"),
        401: _("未认证"),
        403: _("无权操作"),
        404: _("未找到"),
        405: _("方法不允许"),
        406: _("无法提供所请求的格式"),
        409: _("冲突"),
        412: _("前提条件不成立"),
        413: _("请求体过大"),
        414: _("URI 过长"),
        415: _("不支持的媒体类型"),
        422: _("无法处理的请求"),
        428: _("缺少前提条件"),
        429: _("请求过于频繁"),
        431: _("请求头过大"),
        500: _("服务器内部错误"),
        501: _("未实现"),
        503: _("服务不可用"),
    }


def problem(status: int, code: str, detail: Message, errors: dict | None = None) -> dict[str, Any]:
    """The body of a problem answer."""
    body: dict[str, Any] = {
        "type": f"urn:duchaa:problem:{code}",
        "title": _titles().get(status, _("错误")),
        "status": status,
        "detail": str(detail),
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    code: ErrorCode, detail: Message | None = None, *, status: int | None = None
) -> JsonResponse:
    """A problem answer outside DRF (middleware, error pages): the code's status and, unless
    told otherwise, its message."""
    status = STATUS[code] if status is None else status
    detail = MESSAGES[code] if detail is None else detail
    return JsonResponse(
        problem(status, code, detail),
        status=status,
        content_type=PROBLEM_JSON,
        json_dumps_params={"ensure_ascii": False},
    )
