"""Reviewing the trail: the filters of the contract, rows for the API, page and CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from audits import dates
from audits.errors import Invalid
from audits.models import AuditEvent, User
from audits.models.trail import AuditSeal
from audits.visibility import visible

FILTERS = ("actor", "action", "object_type", "object_id", "from", "to")
MAX_FILTER_CHARS = 1000
CSV_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "operation",
    "object_type",
    "object_id",
    "ip",
    "device_id",
    "request_id",
    "before",
    "after",
    "hash",
)


def parse_filters(params: Any) -> dict[str, Any]:
    """The contract's filters from query parameters; a bad one is a 400 naming each.

    Names and ids match exactly as recorded (a refused login keeps the username as typed,
    spaces included); only an empty value means "no filter".
    """
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in FILTERS:
        value = params.get(name) or ""
        if name in ("from", "to"):
            value = value.strip()
        if not value:
            continue
        if len(value) > MAX_FILTER_CHARS:
            errors[name] = [_("过长。")]
        elif "\x00" in value:
            errors[name] = [_("不能包含空字符（NUL）。")]
        elif name in ("from", "to"):
            try:
                out[name] = dates.parse_moment(value, end=name == "to")
            except dates.BadDate as exc:
                errors[name] = [str(exc)]
        else:
            out[name] = value
    if errors:
        raise Invalid(errors)
    return out


def events(user: User, filters: dict[str, Any]) -> QuerySet:
    """The events the user may review, filtered; an unknown actor or object is just empty."""
    qs = visible(user, AuditEvent)
    actor = filters.get("actor")
    if actor is not None:
        qs = (
            qs.filter(actor_id=int(actor))
            if actor.isascii() and actor.isdigit() and len(actor) < 19
            else qs.filter(actor_label=actor)
        )
    for name in ("action", "object_type", "object_id"):
        if name in filters:
            qs = qs.filter(**{name: filters[name]})
    if "from" in filters:
        qs = qs.filter(at__gte=filters["from"])
    if "to" in filters:
        qs = qs.filter(at__lte=filters["to"])
    leaf = AuditSeal.objects.filter(seq=OuterRef("seq")).values("leaf")[:1]
    return qs.annotate(leaf=Subquery(leaf))


def hash_hex(event: AuditEvent) -> str | None:
    leaf = getattr(event, "leaf", None)
    return bytes(leaf).hex() if leaf is not None else None


def as_item(event: AuditEvent) -> dict[str, Any]:
    """One event as the contract gives it."""
    return {
        "seq": event.seq,
        "at": event.at,
        "actor": (
            {"id": event.actor_id, "label": event.actor_label}
            if event.actor_id is not None or event.actor_label
            else None
        ),
        "action": event.action,
        "operation": event.operation,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip,
        "device_id": event.device_id,
        "request_id": event.request_id,
        "changes": event.changes,
        "hash": hash_hex(event),
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif isinstance(value, bytes | memoryview):
        value = bytes(value).hex()
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value  # a spreadsheet must not run a formula from the trail
    return value


def csv_lines(qs: QuerySet, chunk_size: int = 2000) -> Iterator[str]:
    """The CSV, line by line, from a server-side cursor: memory stays flat however long."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    rows = qs.order_by("seq").values_list(*CSV_COLUMNS[:-1], "leaf")
    for row in rows.iterator(chunk_size=chunk_size):
        yield writer.writerow([_cell(v) for v in row])
