"""Who is acting: the audit context that the database triggers read.

Every write on a connection is preceded, when needed, by one `set_config` of the current
context (actor, action, IP, device, request id) into the session, where the capture trigger
reads it. The context comes from the request (middleware), a Celery task (signals) or a
management command (`manage.py`); anything else, a psql session included, leaves events
with no actor. This module is imported by `manage.py` before Django is set up, so it imports
Django lazily.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

SETTING = "duchaa.audit_ctx"

# A source returns the context as a dict; for a request it is read lazily because the
# user is known only once DRF has authenticated the request.
Source = Callable[[], dict[str, Any]]

_source: ContextVar[Source | None] = ContextVar("audit_source", default=None)
_action: ContextVar[str | None] = ContextVar("audit_action", default=None)

_WRITE = re.compile(r"^\s*(insert|update|delete|merge|truncate|with|copy)\b", re.IGNORECASE)


def current() -> dict[str, Any]:
    """The audit context in force here, as the trigger will see it."""
    source = _source.get()
    ctx = dict(source()) if source else {}
    action = _action.get()
    if action:
        ctx["action"] = action
    return {key: value for key, value in ctx.items() if value not in (None, "")}


@contextmanager
def bind(source: Source | None) -> Iterator[None]:
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


@contextmanager
def job_context(name: str) -> Iterator[None]:
    """Attribute the changes made inside to a named job (a command or a scheduled task)."""
    with bind(lambda: {"actor_label": f"job:{name}"}):
        yield


@contextmanager
def user_context(user: Any, *, device_id: str = "") -> Iterator[None]:
    """Attribute the changes made inside to a user, keeping the request's IP and id."""
    outer = _source.get()

    def source() -> dict[str, Any]:
        ctx = dict(outer()) if outer else {}
        ctx.update(actor_id=user.pk, actor_label=user.get_username())
        if device_id:
            ctx["device_id"] = device_id
        return ctx

    with bind(source):
        yield


@contextmanager
def action(name: str) -> Iterator[None]:
    """Name the domain verb (`finding.publish`) for every row changed inside."""
    token = _action.set(name)
    try:
        yield
    finally:
        _action.reset(token)


@dataclass
class _SessionState:
    committed: str = ""  # the value in force outside any transaction
    block: Any = None  # the atomic block in which `pending` was applied
    pending: str = ""


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ensure_applied(db: Any) -> None:
    payload = json.dumps(current(), sort_keys=True, default=str)
    raw = db.connection
    state = _states.get(raw)
    if state is None:
        state = _states[raw] = _SessionState()
    in_txn = db.in_atomic_block
    if in_txn and state.block is not None and any(b is state.block for b in db.atomic_blocks):
        effective = state.pending
    else:
        effective = state.committed
    if effective == payload:
        return
    with raw.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", (SETTING, payload))
    if in_txn:
        # A rollback undoes the SET too, so the value counts as committed only on commit.
        state.block, state.pending = db.atomic_blocks[-1], payload

        def committed() -> None:
            state.committed = payload

        db.on_commit(committed)
    else:
        state.committed = payload


def _execute_wrapper(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    if isinstance(sql, str) and _WRITE.match(sql):
        _ensure_applied(context["connection"])
    return execute(sql, params, many, context)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _execute_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_execute_wrapper)


def install() -> None:
    """Hook the context into every database connection and every Celery task."""
    from celery.signals import task_postrun, task_prerun
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection_created, dispatch_uid="audit_context")

    tokens: dict[str, Any] = {}

    def prerun(task_id: str, task: Any, **kwargs: Any) -> None:
        tokens[task_id] = _source.set(lambda: {"actor_label": f"job:{task.name}"})

    def postrun(task_id: str, **kwargs: Any) -> None:
        token = tokens.pop(task_id, None)
        if token is not None:
            _source.reset(token)

    task_prerun.connect(prerun, weak=False, dispatch_uid="audit_task_prerun")
    task_postrun.connect(postrun, weak=False, dispatch_uid="audit_task_postrun")
