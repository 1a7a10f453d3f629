"""DRF's errors and the domain's, answered as problem+json (audits/problems.py)."""

import logging
import math
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from audits.errors import DomainError, ErrorCode, Throttled
from audits.problems import PROBLEM_JSON, STATUS, problem

log = logging.getLogger("django.request")


def _field_errors(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        out = {}
        for field, messages in data.items():
            if isinstance(messages, dict):
                for sub, inner in _field_errors(messages).items():
                    out[f"{field}.{sub}"] = inner
            elif isinstance(messages, list) and messages and isinstance(messages[0], dict):
                for index, item in enumerate(messages):
                    for sub, inner in _field_errors(item).items():
                        out[f"{field}[{index}].{sub}"] = inner
            else:
                items = messages if isinstance(messages, list) else [messages]
                out[field] = [str(m) for m in items]
        return out
    items = data if isinstance(data, list) else [data]
    return {"non_field_errors": [str(m) for m in items]}


def _first_code(codes: Any) -> str:
    while isinstance(codes, dict | list):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _rollback_unless_non_atomic(view: Any) -> None:
    # As DRF's own handler does, roll the request's transaction back; views that manage
    # their own transactions (sign-in: a refusal is recorded) are left alone.
    if "default" not in getattr(type(view).dispatch, "_non_atomic_requests", set()):
        set_rollback()


def _domain_response(exc: DomainError) -> Response:
    status = STATUS[exc.code]
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(max(1, math.ceil(exc.wait)))}
        body = problem(status, exc.code, str(exc.message))
        return Response(body, status=status, headers=headers, content_type=PROBLEM_JSON)
    if exc.errors:
        errors = {field: [str(m) for m in messages] for field, messages in exc.errors.items()}
        body = problem(status, exc.code, _("提交的数据有误。"), errors)
    else:
        body = problem(status, exc.code, str(exc.message))
    return Response(body, status=status, content_type=PROBLEM_JSON)


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's handling of errors (statuses, auth and retry headers, rollback) as problem+json;
    the domain's own errors get their status here, from their code."""
    _rollback_unless_non_atomic(context.get("view"))
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, IntegrityError):
        # A uniqueness or reference rule of the database: the request conflicts with data.
        return _domain_response(DomainError(code=ErrorCode.CONFLICT))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        log.error("Unhandled error in API view", exc_info=exc)
        return Response(
            problem(500, ErrorCode.SERVER_ERROR, _("服务器内部错误。")),
            status=500,
            content_type=PROBLEM_JSON,
        )
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
    status = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        code = _first_code(exc.get_codes())
        code = ErrorCode.INVALID if code in {"required", "invalid", "null", "blank"} else code
        body = problem(status, code, _("提交的数据有误。"), _field_errors(exc.detail))
    elif isinstance(exc.detail, dict | list):
        body = problem(
            status, _first_code(exc.get_codes()), _("请求无效。"), _field_errors(exc.detail)
        )
    else:
        code = getattr(exc.detail, "code", None) or exc.default_code
        body = problem(status, code, str(exc.detail))
    return Response(body, status=status, headers=headers, content_type=PROBLEM_JSON)
