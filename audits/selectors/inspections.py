"""Reads of campaigns, visits and findings; all start from `visibility.visible`."""

from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from audits.choices import FindingStatus
from audits.models import Campaign, Finding, Photo, Unit, User, Visit
from audits.visibility import visible


def campaigns_for(user: User, *, mode: str | None = None) -> QuerySet[Campaign]:
    qs = visible(user, Campaign).select_related("unit")
    return qs.filter(mode=mode) if mode else qs


def visits_for(
    user: User,
    *,
    status: str | None = None,
    campaign: UUID | None = None,
    team: UUID | None = None,
) -> QuerySet[Visit]:
    qs = visible(user, Visit).select_related("campaign", "target")
    if status:
        qs = qs.filter(status=status)
    if campaign:
        qs = qs.filter(campaign_id=campaign)
    if team:
        qs = qs.filter(team_id=team)
    return qs


def findings_for(
    user: User,
    *,
    visit: UUID | None = None,
    campaign: UUID | None = None,
    unit: Unit | None = None,
    status: str | None = None,
    severity: str | None = None,
    overdue: bool = False,
    q: str | None = None,
) -> QuerySet[Finding]:
    qs = visible(user, Finding).select_related("visit", "checklist_item")
    if visit:
        qs = qs.filter(visit_id=visit)
    if campaign:
        qs = qs.filter(visit__campaign_id=campaign)
    if unit is not None:
        qs = qs.filter(
            Q(responsible_unit__path__startswith=unit.path)
            | Q(visit__target__path__startswith=unit.path)
        )
    if status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if overdue:
        qs = qs.filter(
            status__in=[FindingStatus.PUBLISHED, FindingStatus.RETURNED],
            rectify_by__lt=timezone.localdate(),
        )
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return with_related_ids(qs)


def with_related_ids(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """Each finding with its officials' ids and its photos' ids (in upload order) as two
    arrays in its own row, for FindingOut.

    A prefetch would do the same in two more queries, but it builds a queryset per finding
    to attach the results: on a page of 500 findings that was most of the request's time.
    """
    officials = Finding.responsible_officials.through.objects.filter(finding_id=OuterRef("pk"))
    photos = Photo.objects.filter(finding_id=OuterRef("pk"))
    return qs.annotate(
        official_ids=ArraySubquery(officials.order_by("official_id").values("official_id")),
        photo_ids=ArraySubquery(photos.order_by("created_at", "id").values("id")),
    )
