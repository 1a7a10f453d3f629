"""What may this user see: the one place that answers it, for every list, count and feed.

`visible(user, Model)` returns the queryset of `Model` rows the user may see, from their
roles and jurisdiction (their home unit's subtree). Every selector and API view starts from
it; a row outside it is answered with 404, exactly as if it did not exist.

The secrecy rule of unannounced campaigns (DOMAIN.md) lives here: a campaign or visit of
mode `unannounced` is visible only to (a) its own team, (b) planners and leaders of the
owning unit or a unit above it, and (c) auditors. Everyone else, whoever's jurisdiction
contains the target included, sees nothing of it; once the visit is closed and its findings
published they see those published findings, and still not the visit or the campaign.
Because every reader goes through `visible`, there is no second place where that rule could
be forgotten.
"""

from collections.abc import Callable

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from audits.choices import PUBLISHED_STATES, FindingStatus, Mode, Role, VisitStatus
from audits.models import (
    AuditEvent,
    Bulletin,
    BulletinRecipient,
    BulletinStatus,
    Campaign,
    Checklist,
    ChecklistItem,
    DeviceSession,
    Draw,
    Finding,
    Notification,
    Official,
    Photo,
    Position,
    Rectification,
    Team,
    Unit,
    User,
    Visit,
)

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


def my_teams(user: User) -> QuerySet:
    """Ids of the teams the user sits on, as member or lead."""
    return Team.objects.filter(Q(members=user) | Q(lead=user)).values("pk")


def oversight(user: User) -> str | None:
    """The jurisdiction path of a planner or leader, None for other roles."""
    if user.has_role(Role.PLANNER, Role.LEADER):
        return jurisdiction(user)
    return None


@rule(Checklist)
@rule(ChecklistItem)
def _checklists(user: User, qs: QuerySet) -> QuerySet:
    # The standards are published; what is secret is where and when they are checked.
    return qs


@rule(Campaign)
def _campaigns(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs
    on_team = Visit.objects.filter(team__in=my_teams(user)).exclude(status=VisitStatus.CANCELLED)
    q = Q(pk__in=on_team.values("campaign_id"))
    path = oversight(user)
    if path is not None:
        announced_here = Visit.objects.filter(
            campaign__mode=Mode.ANNOUNCED, target__path__startswith=path
        )
        q |= Q(unit__path__startswith=path) | Q(pk__in=announced_here.values("campaign_id"))
    return qs.filter(q)


@rule(Draw)
def _draws(user: User, qs: QuerySet) -> QuerySet:
    return qs.filter(campaign__in=visible(user, Campaign).values("pk"))


@rule(Visit)
def _visits(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs
    q = Q(team__in=my_teams(user)) & ~Q(status=VisitStatus.CANCELLED)
    path = oversight(user)
    if path is not None:
        q |= Q(campaign__unit__path__startswith=path)
        q |= Q(campaign__mode=Mode.ANNOUNCED, target__path__startswith=path)
    return qs.filter(q)


@rule(Finding)
def _findings(user: User, qs: QuerySet) -> QuerySet:
    if reads_everything(user):
        return qs.exclude(status=FindingStatus.DRAFT)
    q = Q(visit__team__in=my_teams(user)) & ~Q(visit__status=VisitStatus.CANCELLED)
    published = Q(status__in=PUBLISHED_STATES)
    path = oversight(user)
    if path is not None:
        q |= Q(visit__campaign__unit__path__startswith=path) & ~Q(status=FindingStatus.DRAFT)
        q |= published & (
            Q(responsible_unit__path__startswith=path) | Q(visit__target__path__startswith=path)
        )
    if user.has_role(Role.UNIT_OFFICIAL) and user.unit_id:
        q |= published & Q(responsible_unit_id=user.unit_id)
    return qs.filter(q)


@rule(Rectification)
def _rectifications(user: User, qs: QuerySet) -> QuerySet:
    return qs.filter(finding__in=visible(user, Finding).values("pk"))


@rule(Notification)
def _notifications(user: User, qs: QuerySet) -> QuerySet:
    return qs.filter(recipient=user)


@rule(Photo)
def _photos(user: User, qs: QuerySet) -> QuerySet:
    # Whoever may see its finding; a photo of the visit alone, whoever may see the visit.
    return qs.filter(
        Q(finding__in=visible(user, Finding).values("pk"))
        | Q(finding__isnull=True, visit__in=visible(user, Visit).values("pk"))
    )


@rule(Bulletin)
def _bulletins(user: User, qs: QuerySet) -> QuerySet:
    # Planners: the bulletins their unit or a unit below it issues, drafts included.
    # Everyone else: the issued bulletins addressed to them (leaders, and whoever a planner
    # added to the list); a draft is nobody's business but its planners'.
    if reads_everything(user):
        return qs
    addressed = BulletinRecipient.objects.filter(bulletin=OuterRef("pk"), user=user)
    q = Q(status=BulletinStatus.ISSUED) & Q(Exists(addressed))
    path = jurisdiction(user)
    if user.has_role(Role.PLANNER) and path is not None:
        q |= Q(issuer__path__startswith=path)
    return qs.filter(q)


@rule(BulletinRecipient)
def _bulletin_recipients(user: User, qs: QuerySet) -> QuerySet:
    # Who received a bulletin and who acknowledged it is its planners' to follow; any
    # other recipient sees their own copy only.
    if reads_everything(user):
        return qs
    q = Q(user=user, bulletin__status=BulletinStatus.ISSUED)
    path = jurisdiction(user)
    if user.has_role(Role.PLANNER) and path is not None:
        q |= Q(bulletin__issuer__path__startswith=path)
    return qs.filter(q)


def reviews_trail(user: User | None) -> bool:
    """Only auditors review the audit trail; to everyone else it does not exist (404)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_role(Role.AUDITOR)
    )


@rule(AuditEvent)
def _audit_events(user: User, qs: QuerySet) -> QuerySet:
    return qs if reviews_trail(user) else qs.none()
