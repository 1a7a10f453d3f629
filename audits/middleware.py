"""Request-wide concerns: request id, the audit context, and the /api/ body limit."""

import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from audits.errors import ErrorCode
from audits.problems import problem_response
from audits.trail import context

_STATUS_CODES = {
    400: ErrorCode.BAD_REQUEST,
    403: ErrorCode.PERMISSION_DENIED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    414: ErrorCode.URI_TOO_LONG,
    500: ErrorCode.SERVER_ERROR,
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, trusting X-Forwarded-For only behind `NUM_PROXIES` proxies."""
    if settings.NUM_PROXIES:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if forwarded:
            return forwarded[-min(settings.NUM_PROXIES, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def device_id_of(request: HttpRequest) -> str:
    """The device the server established for this request; never what a client's header says.

    A bearer token names its device session's device (the claim we signed when the session
    was opened from it); a signed-in web session is a device of its own. Anything else has
    none: a refused sign-in's claimed device goes into that event's data, as a claim.
    """
    token = getattr(request, "auth", None)
    if token is not None and hasattr(token, "get"):
        return str(token.get("device_id") or "")[:128]
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is not None and user.is_authenticated and session is not None and session.session_key:
        return web_device_id(session.session_key)
    return ""


def web_device_id(session_key: str) -> str:
    """A web session's device: a digest of its key, since the key itself is a credential."""
    return "web:" + hashlib.sha256(session_key.encode()).hexdigest()[:24]


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class RequestContextMiddleware:
    """Give each request an id and make it the audit context of whatever it changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex

        def source() -> dict[str, Any]:
            user = getattr(request, "user", None)
            actor = user if user is not None and user.is_authenticated else None
            return {
                "actor_id": actor.pk if actor else None,
                "actor_label": actor.get_username() if actor else "",
                "ip": client_ip(request),
                "device_id": device_id_of(request),
                "request_id": request.request_id,
            }

        with context.bind(source):
            response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(
                ("application/problem+json", "application/json")
            )
        ):
            # Django's own pages (the DEBUG 404 page, a CSRF refusal) never reach a client
            # of the API: the same status, as a problem.
            response = problem_response(
                _STATUS_CODES.get(response.status_code, ErrorCode.ERROR),
                response.reason_phrase,
                status=response.status_code,
            )
        response["X-Request-ID"] = request.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Errors outside DRF views (middleware, plain views) under /api/ still answer in
        # problem+json; the traceback goes to the log, never to the client.
        if not is_api(request):
            return None
        import logging

        logging.getLogger("django.request").error(
            "Unhandled error on %s", request.path, exc_info=exception
        )
        return problem_response(ErrorCode.SERVER_ERROR)


class ApiUriLimitMiddleware:
    """Refuse /api/ URLs longer than `API_MAX_URL_BYTES` (414) before any work is done.

    gunicorn refuses longer request lines still, itself (gunicorn.conf.py); this limit is
    lower, so that what a client can be told is said in the request's language, with its id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            # RAW_URI (gunicorn) is the target as sent; elsewhere, the same re-encoded.
            length = len(request.META.get("RAW_URI") or request.get_full_path())
            limit = settings.API_MAX_URL_BYTES
            if length > limit:
                return problem_response(
                    ErrorCode.URI_TOO_LONG,
                    _("URI 过长：上限 %(limit)d 字节。") % {"limit": limit},
                )
        return self.get_response(request)


class ApiBodyLimitMiddleware:
    """Refuse /api/ bodies over `API_MAX_BODY_BYTES` before anything reads them.

    Views that stream large bodies (photo uploads) declare their own `max_body_bytes`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any):
        if not is_api(request):
            return None
        limit = getattr(getattr(view, "cls", view), "max_body_bytes", settings.API_MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(ErrorCode.BAD_CONTENT_LENGTH)
        if length > limit:
            return problem_response(
                ErrorCode.PAYLOAD_TOO_LARGE,
                _("请求体过大：上限 %(limit)d 字节。") % {"limit": limit},
            )
        return None
