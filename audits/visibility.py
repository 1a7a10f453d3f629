"""What may this user see: the one place that answers it, for every list, count and feed.

`visible(user, Model)` returns the queryset of `Model` rows the user may see, from their
roles and jurisdiction (their home unit's subtree). Every selector and API view starts from
it; a row outside it is answered with 404, exactly as if it did not exist.

The secrecy rule of unannounced campaigns (DOMAIN.md) is written here too, once the
campaign models exist: a campaign or visit of mode `unannounced` is visible only to
(a) its own team, (b) planners and leaders of the owning unit or a unit above it, and
(c) auditors; everyone else whose jurisdiction contains the target, and everyone else at all,
sees nothing of it until the visit is closed and its findings published, and then only the
published findings. Because every reader goes through `visible`, there is no second place
where that rule could be forgotten.
"""

from collections.abc import Callable

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from audits.choices import Role
from audits.models import DeviceSession, Official, Position, Team, Unit, User

Rule = Callable[[User, QuerySet], QuerySet]
_rules: dict[type[Model], Rule] = {}


def rule(model: type[Model]) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _rules[model] = fn
        return fn

    return register


def visible(user: User, model: type[Model]) -> QuerySet:
    """The rows of `model` that `user` may see (none for anonymous or inactive users)."""
    qs = model._default_manager.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    return _rules[model](user, qs)


def jurisdiction(user: User) -> str | None:
    """The path prefix of the user's home subtree, or None when they have no home unit."""
    return user.unit.path if user.unit_id else None


def reads_everything(user: User) -> bool:
    return user.has_role(Role.AUDITOR)


@rule(Unit)
def _units(user: User, qs: QuerySet) -> QuerySet:
    # The administrative tree is public knowledge; what is secret hangs off it.
    return qs


@rule(Official)
def _officials(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs
    path = jurisdiction(user)
    if path is None:
        return qs.none()
    if user.has_role(Role.PLANNER, Role.LEADER, Role.INSPECTOR, Role.TEAM_LEAD):
        held = Position.objects.filter(official=OuterRef("pk"), unit__path__startswith=path)
    elif user.has_role(Role.UNIT_OFFICIAL):
        held = Position.objects.filter(official=OuterRef("pk"), unit_id=user.unit_id)
    else:
        return qs.filter(user=user)
    return qs.filter(Q(Exists(held)) | Q(user=user))


@rule(Position)
def _positions(user: User, qs: QuerySet) -> QuerySet:
    return qs.filter(official__in=visible(user, Official))


@rule(User)
def _users(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs
    path = jurisdiction(user)
    if user.has_role(Role.PLANNER) and path is not None:
        return qs.filter(Q(unit__path__startswith=path) | Q(pk=user.pk))
    return qs.filter(pk=user.pk)


@rule(Team)
def _teams(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs
    own = Q(members=user) | Q(lead=user)
    path = jurisdiction(user)
    if user.has_role(Role.PLANNER, Role.LEADER) and path is not None:
        own |= Q(owner_unit__path__startswith=path)
    return qs.filter(pk__in=Team.objects.filter(own).values("pk"))


@rule(DeviceSession)
def _device_sessions(user: User, qs: QuerySet) -> QuerySet:
    return qs.filter(user=user)
