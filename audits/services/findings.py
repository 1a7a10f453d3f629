"""The finding lifecycle, from the inspector's draft to the verified rectification.

draft → submitted → confirmed | dismissed; confirmed → published → rectification_submitted
→ verified | returned; returned → rectification_submitted …
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from audits import dates
from audits.choices import FindingStatus, Role, VisitStatus
from audits.errors import ErrorCode, Forbidden, Invalid, WrongState
from audits.models import (
    ChecklistItem,
    Finding,
    Official,
    Rectification,
    Unit,
    User,
    Visit,
)
from audits.permissions import answers_for, inspects, plans
from audits.services.common import acting, bump, check_version, create_or_replay, locked
from audits.services.notifications import notify
from audits.services.photos.attaching import attached_photos
from audits.services.sync_marks import touch_photos_of
from audits.visibility import visible


def _finding(actor: User, finding_id: uuid.UUID) -> Finding:
    qs = visible(actor, Finding).select_related(
        "visit__campaign__unit", "visit__team", "visit__target", "responsible_unit"
    )
    return locked(qs, finding_id)


def _expect(finding: Finding, *states: str) -> None:
    if finding.status not in states:
        raise WrongState(
            _("问题当前状态为 %(status)s，不能进行此操作。")
            % {"status": finding.get_status_display()}
        )


def _check_fields(visit: Visit, fields: dict) -> None:
    errors = {}
    observed = fields.get("observed_at")
    if observed is not None:
        problem = dates.field_time_problem(
            observed, visit.window_start, visit.window_end, timezone.now()
        )
        if problem:
            errors["observed_at"] = [problem]
    item = fields.get("checklist_item")
    if item is not None and item.checklist_id != visit.campaign.checklist_id:
        errors["checklist_item"] = [_("检查项不属于本专题的检查清单。")]
    unit = fields.get("responsible_unit")
    if unit is not None and not (
        unit.path.startswith(visit.target.path) or visit.target.path.startswith(unit.path)
    ):
        errors["responsible_unit"] = [_("责任单位须是被检查单位或其上下级。")]
    if errors:
        raise Invalid(errors)


def finding_create(
    *,
    actor: User,
    finding_id: uuid.UUID,
    visit: Visit,
    checklist_item: ChecklistItem,
    severity: str,
    title: str,
    description: str = "",
    measured_value: Decimal | None = None,
    responsible_unit: Unit | None = None,
    responsible_officials: list[Official] | None = None,
    observed_at: datetime,
) -> tuple[Finding, bool]:
    """Record a finding on a visit of the actor's team; returns (finding, created)."""
    fields = {
        "visit": visit,
        "checklist_item": checklist_item,
        "severity": severity,
        "title": title,
        "description": description,
        "measured_value": measured_value,
        "responsible_unit": responsible_unit or visit.target,
        "observed_at": observed_at,
    }
    officials = responsible_officials or []

    def create() -> Finding:
        locked_visit = locked(
            visible(actor, Visit).select_related("campaign", "team", "target"), visit.pk
        )
        if not inspects(actor, locked_visit):
            raise Forbidden(_("只有本组成员可以记录问题。"))
        if locked_visit.status != VisitStatus.IN_PROGRESS:
            raise WrongState(_("只能在进行中的检查上记录问题。"))
        _check_fields(locked_visit, fields)
        finding = Finding.objects.create(id=finding_id, created_by=actor, **fields)
        finding.responsible_officials.set(officials)
        return finding

    with acting(actor, "finding.create"):
        return create_or_replay(
            actor, Finding, finding_id, {**fields, "responsible_officials": officials}, create
        )


def finding_update(
    *, actor: User, finding_id: uuid.UUID, if_match: str | None, changes: dict
) -> Finding:
    """The team edits a draft; `If-Match` must carry the version it edited."""
    with acting(actor, "finding.update"):
        finding = _finding(actor, finding_id)
        if not inspects(actor, finding.visit):
            raise Forbidden(_("只有本组成员可以修改问题。"))
        check_version(finding, if_match)
        _expect(finding, FindingStatus.DRAFT)
        _check_fields(finding.visit, changes)
        officials = changes.pop("responsible_officials", None)
        for field, value in changes.items():
            setattr(finding, field, value)
        bump(finding, *changes)
        if officials is not None:
            finding.responsible_officials.set(officials)
    return finding


def _review(actor: User, finding_id: uuid.UUID, verb: str, to: str) -> Finding:
    with acting(actor, verb):
        finding = _finding(actor, finding_id)
        if not plans(actor, finding.visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以审核问题。"))
        _expect(finding, FindingStatus.SUBMITTED)
        finding.status = to
        bump(finding, "status")
    return finding


def finding_confirm(*, actor: User, finding_id: uuid.UUID) -> Finding:
    return _review(actor, finding_id, "finding.confirm", FindingStatus.CONFIRMED)


def finding_dismiss(*, actor: User, finding_id: uuid.UUID) -> Finding:
    return _review(actor, finding_id, "finding.dismiss", FindingStatus.DISMISSED)


def _future(day: date, field: str = "rectify_by") -> None:
    problem = dates.deadline_problem(day, timezone.localdate())
    if problem:
        raise Invalid({field: [problem]})


def finding_publish(*, actor: User, finding_id: uuid.UUID, rectify_by: date) -> Finding:
    """Make a confirmed finding known to its unit, with a deadline; the unit is notified."""
    _future(rectify_by)
    with acting(actor, "finding.publish"):
        finding = _finding(actor, finding_id)
        if not plans(actor, finding.visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以通报问题。"))
        _expect(finding, FindingStatus.CONFIRMED)
        if finding.visit.status != VisitStatus.CLOSED:
            raise WrongState(code=ErrorCode.VISIT_NOT_CLOSED)
        finding.status, finding.rectify_by = FindingStatus.PUBLISHED, rectify_by
        finding.published_at = timezone.now()
        bump(finding, "status", "rectify_by", "published_at")
        touch_photos_of(finding)
        _notify_unit(
            finding,
            "finding.published",
            _("新通报问题：%(title)s，整改期限 %(day)s")
            % {"title": finding.title, "day": rectify_by.isoformat()},
        )
    return finding


def rectification_submit(
    *, actor: User, finding_id: uuid.UUID, report: str, photos: list[uuid.UUID]
) -> Rectification:
    with acting(actor, "finding.rectification"):
        finding = _finding(actor, finding_id)
        if not answers_for(actor, finding):
            raise Forbidden(_("只有责任单位可以报送整改。"))
        _expect(finding, FindingStatus.PUBLISHED, FindingStatus.RETURNED)
        photos = attached_photos(finding, photos, actor)
        rectification = Rectification.objects.create(
            finding=finding, report=report, photo_ids=photos, submitted_by=actor
        )
        finding.status = FindingStatus.RECTIFICATION_SUBMITTED
        bump(finding, "status")
    return rectification


def rectification_verify(
    *, actor: User, finding_id: uuid.UUID, accepted: bool, comment: str, rectify_by: date | None
) -> Finding:
    """A planner accepts the rectification, or returns it with a new deadline."""
    if not accepted:
        if rectify_by is None:
            raise Invalid({"rectify_by": [_("退回整改须给出新的期限。")]})
        _future(rectify_by)
    with acting(actor, "finding.verify"):
        finding = _finding(actor, finding_id)
        if not plans(actor, finding.visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以验收整改。"))
        _expect(finding, FindingStatus.RECTIFICATION_SUBMITTED)
        latest = finding.rectifications.select_for_update().latest("submitted_at")
        latest.accepted, latest.comment = accepted, comment
        latest.reviewed_by, latest.reviewed_at = actor, timezone.now()
        latest.save(update_fields=["accepted", "comment", "reviewed_by", "reviewed_at"])
        if accepted:
            finding.status = FindingStatus.VERIFIED
            bump(finding, "status")
        else:
            assert rectify_by is not None  # a return without a deadline was refused above
            finding.status, finding.rectify_by = FindingStatus.RETURNED, rectify_by
            bump(finding, "status", "rectify_by")
            _notify_unit(
                finding,
                "rectification.returned",
                _("整改被退回：%(title)s，新期限 %(day)s")
                % {"title": finding.title, "day": rectify_by.isoformat()},
            )
    return finding


def _notify_unit(finding: Finding, kind: str, text: str) -> None:
    officials = User.objects.filter(
        unit_id=finding.responsible_unit_id, is_active=True, roles__contains=[Role.UNIT_OFFICIAL]
    )
    notify(recipients=officials, kind=kind, text=text, finding=finding, about=finding)
