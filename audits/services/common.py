"""What every service needs: one transaction, a named actor and verb, row locks, versions."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from audits.errors import Conflict, ErrorCode, IdUnusable, PreconditionFailed, PreconditionRequired
from audits.models import User
from audits.trail import context

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


@contextmanager
def acting(actor: User, verb: str, *, savepoint: bool = True) -> Iterator[None]:
    """One transaction in which every row changed is attributed to `actor` doing `verb`.

    Inside a request's transaction it is a savepoint; `savepoint=False` spares the two
    round trips for a verb of one statement that the caller would never survive failing
    (recording a read), which then fails the caller's transaction as a whole.
    """
    with transaction.atomic(savepoint=savepoint), context.user_context(actor), context.action(verb):
        yield


def locked(queryset: models.QuerySet, pk: Any) -> Any:
    """The row, locked for the rest of the transaction (raises DoesNotExist)."""
    return queryset.select_for_update(of=("self",)).get(pk=pk)


def check_version(obj: Any, if_match: str | None) -> None:
    """Optimistic concurrency: `If-Match` must name the version the client edited."""
    if not if_match:
        raise PreconditionRequired()
    match = _ETAG.match(if_match)
    if match is None or int(match.group(1)) != obj.version:
        raise PreconditionFailed()


def bump(obj: Any, *fields: str) -> None:
    """Save the fields and the next version (an edit the clients must notice)."""
    obj.version = F("version") + 1
    obj.save(update_fields=[*fields, "version"])
    obj.refresh_from_db(fields=["version"])


def same_or_conflict(existing: Any, wanted: dict[str, Any]) -> Any:
    """A create repeated with a client-chosen id: same body is fine, another body is 409."""
    for field, value in wanted.items():
        current = getattr(existing, field)
        if hasattr(current, "all"):  # many-to-many
            current = {row.pk for row in current.all()}
            value = {getattr(v, "pk", v) for v in value}
        if _normal(current) != _normal(value):
            raise Conflict(_("该 id 已被另一内容使用。"), code=ErrorCode.ID_CONFLICT)
    return existing


def _normal(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return value


def create_or_replay(
    actor: User,
    model: type[models.Model],
    pk: Any,
    wanted: dict[str, Any],
    create: Callable[[], Any],
) -> tuple[Any, bool]:
    """Create a row with a client-chosen id once: (row, created).

    A repeat with the same body gets the existing row; another body is a 409. An id taken
    by something the actor may not see is IdUnusable: the 400 a malformed id gets, so it
    tells nothing about that row. Two identical creates racing each other: the second
    waits on the first's primary key, then finds its row.
    """
    from audits.visibility import visible

    def existing() -> Any:
        row = model._default_manager.filter(pk=pk).first()
        if row is not None and not visible(actor, model).filter(pk=pk).exists():
            raise IdUnusable()
        return row

    if pk is not None and (row := existing()) is not None:
        return same_or_conflict(row, wanted), False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        row = existing() if pk is not None else None
        if row is None:
            raise
        return same_or_conflict(row, wanted), False
