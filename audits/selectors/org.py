"""Reads of the organisation tree and accounts."""

from datetime import date

from django.db.models import Prefetch, Q, QuerySet

from audits.models import Official, Position, Team, Unit, User
from audits.visibility import visible


def units_for(
    user: User, *, parent: Unit | None = None, level: str | None = None, q: str | None = None
) -> QuerySet[Unit]:
    qs = visible(user, Unit)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return qs


def officials_for(user: User, *, unit: Unit | None = None) -> QuerySet[Official]:
    qs = visible(user, Official)
    if unit is not None:
        qs = qs.filter(pk__in=Position.objects.filter(unit=unit).values("official_id"))
    return qs.prefetch_related(Prefetch("positions", queryset=Position.objects.order_by("start")))


def users_for(
    user: User, *, role: str | None = None, unit: Unit | None = None, q: str | None = None
) -> QuerySet[User]:
    qs = visible(user, User)
    if role:
        qs = qs.filter(roles__contains=[role])
    if unit is not None:
        qs = qs.filter(unit=unit)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return qs


def teams_of(user: User) -> QuerySet[Team]:
    """The teams the user sits on, as member or lead."""
    return Team.objects.filter(Q(members=user) | Q(lead=user)).distinct().order_by("name")


def holders(*, unit: Unit, title: str, on: date) -> QuerySet[Position]:
    """Who held `title` at `unit` on day `on`: one query (the positions, with officials)."""
    return Position.objects.held_on(on).filter(unit=unit, title=title).select_related("official")
