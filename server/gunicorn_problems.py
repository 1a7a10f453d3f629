"""gunicorn's own refusals, written before Django sees a request, as problem+json.

gunicorn answers some requests itself: a request line over `limit_request_line` (414),
headers too large or too many (431), a line that is not HTTP (400). It writes them with
`gunicorn.util.write_error`, an HTML page; the contract allows no HTML on /api/, and the
path is not known yet (it was never parsed), so every such answer is problem+json, in the
default language. Installed in each worker by gunicorn.conf.py.
"""

import json

from gunicorn import util

from audits.errors import ErrorCode

CODES = {
    400: ErrorCode.BAD_REQUEST,
    403: ErrorCode.PERMISSION_DENIED,
    414: ErrorCode.URI_TOO_LONG,
    417: ErrorCode.EXPECTATION_FAILED,
    431: ErrorCode.HEADER_FIELDS_TOO_LARGE,
    500: ErrorCode.SERVER_ERROR,
    501: ErrorCode.NOT_IMPLEMENTED,
}

_html_error = util.write_error


def _body(status: int) -> bytes:
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext as _

    from audits.problems import problem

    details = {
        414: _("URI 过长。"),
        431: _("请求头过大。"),
        500: _("服务器内部错误。"),
        501: _("不支持的传输编码。"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        code = CODES.get(status, ErrorCode.BAD_REQUEST)
        body = problem(status, code, details.get(status, _("请求无效。")))
    return json.dumps(body, ensure_ascii=False).encode()


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `write_error` (same arguments): the answer as problem+json."""
    try:
        body = _body(status_int)
    except Exception:
        # The refusal must still go out: in gunicorn's own form, rather than not at all.
        _html_error(sock, status_int, reason, mesg)
        return
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_error
