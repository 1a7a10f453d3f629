"""Events that are not a row change: refused logins, reads of secret objects."""

import json
from typing import Any

from django.db import connection

from audits.trail import context


def record_event(
    *, action: str, object_type: str, object_id: str, data: dict[str, Any] | None = None
) -> None:
    """Append one event in the caller's transaction, attributed to the current context."""
    _append(action, "event", object_type, [str(object_id)], data)


def record_events(*, action: str, object_type: str, object_ids: list[str]) -> None:
    """Append one read event per object, in a single statement."""
    if object_ids:
        _append(action, "read", object_type, object_ids, None)


def _append(
    action: str,
    operation: str,
    object_type: str,
    object_ids: list[str],
    data: dict[str, Any] | None,
) -> None:
    ctx = context.current()
    after = None if data is None else json.dumps(data, ensure_ascii=False, default=str)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type,"
            " object_id, after, ip, device_id, request_id)"
            " SELECT %s, %s, %s, %s, %s, unnest(%s::text[]), %s::jsonb, %s::inet, %s, %s",
            [
                ctx.get("actor_id"),
                ctx.get("actor_label", ""),
                action,
                operation,
                object_type,
                object_ids,
                after,
                ctx.get("ip"),
                ctx.get("device_id", ""),
                ctx.get("request_id", ""),
            ],
        )
