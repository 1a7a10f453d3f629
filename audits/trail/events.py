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


def _no_nul(value: Any) -> Any:
    """What a client sent may hold NUL, which PostgreSQL text and jsonb refuse: the event
    is written anyway (refused, it would be a 500 and no trace), with U+FFFD in its place."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_no_nul(str(k)): _no_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nul(v) for v in value]
    return value


def _append(
    action: str,
    operation: str,
    object_type: str,
    object_ids: list[str],
    data: dict[str, Any] | None,
) -> None:
    ctx = context.current()
    after = (
        None
        if data is None
        else json.dumps(_no_nul(data), ensure_ascii=False, default=lambda o: _no_nul(str(o)))
    )
    object_ids = [_no_nul(i) for i in object_ids]
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
