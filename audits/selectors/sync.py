"""The mobile app's offline cache: everything the caller may see, then only what changed.

A cursor holds a PostgreSQL snapshot (`pg_current_snapshot()`) taken when the previous
round began. A row changed since then is one whose writing transaction (`sync_xid`, set by
a trigger) is not visible in that snapshot: this is exact whatever the order in which
transactions commit, and with an index on `sync_xid` its cost follows what changed, not
what exists. Rows that leave a user's view are recorded as `SyncRemoval`s when it happens.
A round may take several pages (`has_more`); the next round starts from the snapshot taken
when this one began, so nothing committed meanwhile is missed (at worst sent twice).
"""

from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext as _

from audits.errors import ErrorCode, Invalid
from audits.models import (
    Checklist,
    ChecklistItem,
    Finding,
    Notification,
    Photo,
    SyncRemoval,
    SyncReset,
    Unit,
    User,
    Visit,
)
from audits.selectors.inspections import with_related_ids
from audits.visibility import visible

SALT = "duchaa.sync.v1"
TYPES = ("units", "checklists", "visits", "findings", "photos", "notifications")
REMOVABLE = {"visit": Visit, "finding": Finding}


@dataclass
class Page:
    changes: dict[str, list[Any]] = field(default_factory=lambda: {t: [] for t in TYPES})
    removed: list[dict[str, str]] = field(default_factory=list)
    has_more: bool = False
    cursor: str = ""
    reset: bool = False


def _snapshot() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


class _UnseenBy(Func):
    """True when the transaction `xid` is not visible in the snapshot."""

    output_field = BooleanField()

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        xid, snapshot = (compiler.compile(e) for e in self.source_expressions)
        return (
            f"NOT pg_visible_in_snapshot(({xid[0]})::text::xid8, ({snapshot[0]})::pg_snapshot)",
            [*xid[1], *snapshot[1]],
        )


def _changed_since(qs: QuerySet, base: str | None) -> QuerySet:
    """Rows of `qs` written by transactions that the snapshot `base` did not see."""
    if base is None:
        return qs
    # Every transaction below the snapshot's xmin had ended when it was taken: the index
    # range narrows the scan to the recent rows, the visibility test decides exactly.
    xmin = int(base.split(":", 1)[0])
    return qs.filter(sync_xid__gte=xmin).filter(_UnseenBy(F("sync_xid"), Value(base)))


def _querysets(user: User, base: str | None) -> dict[str, QuerySet]:
    """Per type, what to send: everything visible (base None) or what changed since base."""
    checklists = visible(user, Checklist)
    if base is not None:
        items = _changed_since(ChecklistItem.objects.all(), base).values("checklist_id")
        checklists = checklists.filter(
            Q(pk__in=_changed_since(Checklist.objects.all(), base).values("pk")) | Q(pk__in=items)
        )
    return {
        # The administrative tree and the published standards are open to every user:
        # the app keeps all of them, so nothing there ever leaves anyone's view.
        "units": _changed_since(visible(user, Unit), base),
        "checklists": checklists.prefetch_related("items"),
        "visits": _changed_since(visible(user, Visit), base).select_related("campaign"),
        "findings": with_related_ids(
            _changed_since(visible(user, Finding), base).select_related("visit", "checklist_item")
        ),
        # A photo changes when it is uploaded and again when the worker has processed it.
        "photos": _changed_since(visible(user, Photo), base),
        "notifications": _changed_since(visible(user, Notification), base),
    }


def _load(user: User, raw: str | None) -> dict[str, Any]:
    if not raw:
        return {"u": user.pk, "b": None, "r": None, "t": 0, "after": None, "full": True}
    try:
        state = signing.loads(raw, salt=SALT)
    except signing.BadSignature as exc:
        raise Invalid({"cursor": [_("无效的同步游标。")]}, code=ErrorCode.INVALID_CURSOR) from exc
    if not isinstance(state, dict) or state.get("u") != user.pk:
        raise Invalid({"cursor": [_("无效的同步游标。")]}, code=ErrorCode.INVALID_CURSOR)
    return state


def sync_page(user: User, raw_cursor: str | None, limit: int = 500) -> Page:
    """One page of the sync feed for `user` from the cursor of the previous answer."""
    state = _load(user, raw_cursor)
    page = Page()
    if state["r"] is None:  # a round begins
        state["r"] = _snapshot()
        state["t"], state["after"] = 0, None
        if (
            state["b"] is not None
            and _changed_since(SyncReset.objects.filter(user=user), state["b"]).exists()
        ):
            # The view widened in a way row changes do not show: send everything again.
            state["full"] = True
        page.reset = state["full"] and state["b"] is not None
    sets = _querysets(user, None if state["full"] else state["b"])
    room = limit
    while state["t"] < len(TYPES) and room > 0:
        kind = TYPES[state["t"]]
        qs = sets[kind].order_by("pk")
        if state["after"] is not None:
            qs = qs.filter(pk__gt=state["after"])
        rows = list(qs[:room])
        page.changes[kind] = rows
        room -= len(rows)
        if len(rows) == 0 or room > 0:
            state["t"], state["after"] = state["t"] + 1, None
        else:
            state["after"] = str(rows[-1].pk)
    if state["t"] < len(TYPES):
        page.has_more = True
    else:
        if state["b"] is not None:
            page.removed = _removed(user, state["b"])
        state = {"u": user.pk, "b": state["r"], "r": None, "t": 0, "after": None, "full": False}
    page.cursor = signing.dumps(state, salt=SALT, compress=True)
    return page


def _removed(user: User, base: str) -> list[dict[str, str]]:
    marks = _changed_since(SyncRemoval.objects.filter(user=user), base)
    wanted: dict[str, set] = {}
    for mark in marks:
        wanted.setdefault(mark.object_type, set()).add(mark.object_id)
    removed = []
    for kind, ids in sorted(wanted.items()):
        # Something that left and came back is in `changes`, not here.
        still = set(visible(user, REMOVABLE[kind]).filter(pk__in=ids).values_list("pk", flat=True))
        removed += [{"type": kind, "id": str(i)} for i in sorted(ids - still, key=str)]
    return removed
