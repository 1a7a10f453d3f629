"""JSON parsing with bounds: size is capped by middleware, depth here."""

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from audits.errors import ErrorCode


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


class BoundedJSONParser(JSONParser):
    """Refuses malformed, non-UTF-8 or too deeply nested JSON with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise ParseError(_("JSON 嵌套过深。"), code=ErrorCode.TOO_DEEP) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON 格式错误：%s") % exc, code=ErrorCode.PARSE_ERROR) from exc
        if json_depth(data) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(_("JSON 嵌套过深。"), code=ErrorCode.TOO_DEEP)
        return data


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
