"""Events that are not a row change: refused logins, reads of secret objects."""

from typing import Any

from django.db import connection

from audits.trail import context


def record_event(*, action: str, object_type: str, object_id: str,
                 data: dict[str, Any] | None = None) -> None:
    """Append an event in the caller's transaction, attributed to the current context."""
    ctx = context.current()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type,"
            " object_id, after, ip, device_id, request_id)"
            " VALUES (%s, %s, %s, 'event', %s, %s, %s::jsonb, %s::inet, %s, %s)",
            [ctx.get("actor_id"), ctx.get("actor_label", ""), action, object_type,
             str(object_id), _json(data), ctx.get("ip"), ctx.get("device_id", ""),
             ctx.get("request_id", "")],
        )


def _json(data: dict[str, Any] | None) -> str | None:
    import json

    return None if data is None else json.dumps(data, ensure_ascii=False, default=str)


def record_events(*, action: str, object_type: str, object_ids: list[str]) -> None:
    """Append one event per object in a single statement (reads of secret objects)."""
    if not object_ids:
        return
    ctx = context.current()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type,"
            " object_id, ip, device_id, request_id)"
            " SELECT %s, %s, %s, 'read', %s, unnest(%s::text[]), %s::inet, %s, %s",
            [ctx.get("actor_id"), ctx.get("actor_label", ""), action, object_type,
             object_ids, ctx.get("ip"), ctx.get("device_id", ""), ctx.get("request_id", "")],
        )
