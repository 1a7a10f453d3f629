"""Campaigns: created by planners for their unit or a unit below it."""

import uuid
from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from audits import dates
from audits.choices import Mode, VisitStatus
from audits.errors import Forbidden, Invalid
from audits.models import Campaign, Checklist, Unit, User, Visit
from audits.permissions import may_own_campaigns_of
from audits.services.common import acting, create_or_replay
from audits.trail.events import record_events
from audits.visibility import my_teams


def campaign_create(
    *,
    actor: User,
    title: str,
    mode: str,
    unit: Unit,
    starts_on: date,
    ends_on: date,
    checklist: Checklist,
    campaign_id: uuid.UUID | None = None,
) -> tuple[Campaign, bool]:
    if not may_own_campaigns_of(actor, unit):
        raise Forbidden(_("只能为本单位或下级单位创建督查专题。"))
    if mode not in Mode.values:
        raise Invalid({"mode": [_("无效的方式。")]})
    errors = dates.campaign_problems(starts_on, ends_on, timezone.localdate())
    if errors:
        raise Invalid(errors)
    fields = {
        "title": title,
        "mode": mode,
        "unit": unit,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "checklist": checklist,
    }
    with acting(actor, "campaign.create"):
        return create_or_replay(
            actor,
            Campaign,
            campaign_id,
            fields,
            lambda: Campaign.objects.create(
                id=campaign_id or uuid.uuid4(), created_by=actor, **fields
            ),
        )


def campaign_read_record(*, actor: User, campaigns: Iterable[Campaign]) -> None:
    """The same as `visit_read_record` for campaigns: an unannounced campaign with visits
    still open, shown to someone who is not on the team of one of those visits."""
    secret = [c for c in campaigns if c.mode == Mode.UNANNOUNCED]
    if not secret:
        return
    open_ones = set(
        Visit.objects.filter(campaign__in=secret)
        .exclude(status__in=[VisitStatus.CLOSED, VisitStatus.CANCELLED])
        .exclude(team__in=my_teams(actor))
        .values_list("campaign_id", flat=True)
    )
    # A campaign whose open visits all belong to the reader's team is the team's own work.
    read = [str(c.pk) for c in secret if c.pk in open_ones]
    if read:
        with acting(actor, "campaign.read", savepoint=False):
            record_events(action="campaign.read", object_type="campaign", object_ids=read)
