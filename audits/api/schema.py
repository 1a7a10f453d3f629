"""Additions to the generated OpenAPI document."""

from typing import Any

from audits.errors import ErrorCode
from audits.problems import STATUS


def list_error_codes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The problem+json body of every error answer, with every `code` it may carry."""
    statuses = "\n".join(
        f"- `{code}`: {STATUS.get(code, 'the status of the answer')}" for code in ErrorCode
    )
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = {
        "type": "object",
        "description": "Every non-2xx answer under /api/ (application/problem+json, RFC 9457).",
        "properties": {
            "type": {"type": "string", "example": "urn:duchaa:problem:wrong_state"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "enum": [code.value for code in ErrorCode],
                "description": f"What went wrong, and the status it comes with:\n{statuses}",
            },
            "errors": {
                "type": "object",
                "description": "The fields at fault: {field: [message, …]}",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        "required": ["type", "title", "status", "detail", "code"],
    }
    return result
