"""The visit lifecycle: planned → in_progress → submitted → closed, or cancelled."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import dates
from audits.choices import FindingStatus, Mode, VisitStatus
from audits.conflicts import check_assignment
from audits.errors import ErrorCode, Forbidden, Invalid, WrongState
from audits.geo import metres_between
from audits.models import Finding, Team, User, Visit
from audits.permissions import inspects, leads, plans
from audits.services.common import acting, bump, check_version, locked
from audits.services.draws import check_window, conflict_day
from audits.services.sync_marks import touch_findings, visit_left_view
from audits.trail.events import record_events
from audits.visibility import my_teams, visible


def _visit(actor: User, visit_id: UUID) -> Visit:
    """The visit locked for change, or 404 when the actor may not see it."""
    qs = visible(actor, Visit).select_related("campaign__unit", "target", "team")
    return locked(qs, visit_id)


def _expect(visit: Visit, *states: str) -> None:
    if visit.status not in states:
        raise WrongState(
            _("检查当前状态为 %(status)s，不能进行此操作。")
            % {"status": visit.get_status_display()}
        )


def visit_check_in(
    *,
    actor: User,
    visit_id: UUID,
    lat: float,
    lon: float,
    at: datetime,
    accuracy_m: float | None = None,
) -> Visit:
    """Arrive at the target. Far from the registered point is flagged, never refused."""
    with acting(actor, "visit.check_in"):
        visit = _visit(actor, visit_id)
        if not inspects(actor, visit):
            raise Forbidden(_("只有本组成员可以签到。"))
        _expect(visit, VisitStatus.PLANNED)
        problem = dates.field_time_problem(at, visit.window_start, visit.window_end, timezone.now())
        if problem:
            raise Invalid({"at": [problem]})
        target = visit.target
        distance = None
        if target.lat is not None and target.lon is not None:
            distance = round(metres_between(lat, lon, float(target.lat), float(target.lon)), 1)
        visit.status = VisitStatus.IN_PROGRESS
        visit.checked_in_at = at
        visit.checkin_lat, visit.checkin_lon = (
            Decimal(str(round(lat, 6))),
            Decimal(str(round(lon, 6))),
        )
        visit.checkin_accuracy_m = accuracy_m
        visit.checkin_distance_m = distance
        visit.checkin_far = distance is not None and distance > settings.CHECKIN_FAR_METRES
        bump(
            visit,
            "status",
            "checked_in_at",
            "checkin_lat",
            "checkin_lon",
            "checkin_accuracy_m",
            "checkin_distance_m",
            "checkin_far",
        )
    return visit


def visit_submit(*, actor: User, visit_id: UUID) -> Visit:
    """The team lead hands the visit in; its draft findings are submitted with it."""
    with acting(actor, "visit.submit"):
        visit = _visit(actor, visit_id)
        if not leads(actor, visit):
            raise Forbidden(_("只有本组组长可以提交检查。"))
        _expect(visit, VisitStatus.IN_PROGRESS)
        Finding.objects.filter(visit=visit, status=FindingStatus.DRAFT).update(
            status=FindingStatus.SUBMITTED, version=F("version") + 1
        )
        visit.status, visit.submitted_at = VisitStatus.SUBMITTED, timezone.now()
        bump(visit, "status", "submitted_at")
    return visit


def visit_close(*, actor: User, visit_id: UUID) -> Visit:
    """A planner closes the visit once every finding is confirmed or dismissed."""
    with acting(actor, "visit.close"):
        visit = _visit(actor, visit_id)
        if not plans(actor, visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以结束检查。"))
        _expect(visit, VisitStatus.SUBMITTED)
        if visit.findings.filter(status=FindingStatus.SUBMITTED).exists():
            raise WrongState(code=ErrorCode.FINDINGS_UNREVIEWED)
        visit.status, visit.closed_at = VisitStatus.CLOSED, timezone.now()
        bump(visit, "status", "closed_at")
    return visit


def visit_cancel(*, actor: User, visit_id: UUID) -> Visit:
    with acting(actor, "visit.cancel"):
        visit = _visit(actor, visit_id)
        if not plans(actor, visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以取消检查。"))
        _expect(visit, VisitStatus.PLANNED, VisitStatus.IN_PROGRESS)
        visit.status, visit.cancelled_at = VisitStatus.CANCELLED, timezone.now()
        bump(visit, "status", "cancelled_at")
        visit_left_view(visit, _team_user_ids(visit.team))
    return visit


def visit_update(
    *,
    actor: User,
    visit_id: UUID,
    if_match: str | None,
    team: Team | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> Visit:
    """A planner reassigns the team or moves the window of a visit not yet started."""
    with acting(actor, "visit.update"):
        visit = _visit(actor, visit_id)
        if not plans(actor, visit.campaign):
            raise Forbidden(_("只有本专题的组织部门可以修改检查。"))
        check_version(visit, if_match)
        _expect(visit, VisitStatus.PLANNED)
        changed = []
        if window_start is not None:
            visit.window_start = window_start
            changed.append("window_start")
        if window_end is not None:
            visit.window_end = window_end
            changed.append("window_end")
        if changed:
            check_window(visit.campaign, visit.window_start, visit.window_end)
        old_team = visit.team
        new_team = team if team is not None and team.pk != old_team.pk else None
        if new_team is not None:
            check_assignment(new_team, visit.target, on=conflict_day(visit.campaign))
            visit.team = new_team
            changed.append("team")
        if changed:
            bump(visit, *changed)
        if new_team is not None:
            visit_left_view(visit, _team_user_ids(old_team) - _team_user_ids(new_team))
            touch_findings(visit)
    return visit


def _team_user_ids(team: Team) -> set[int]:
    return {team.lead_id, *team.members.values_list("pk", flat=True)}


def visit_read_record(*, actor: User, visits: Iterable[Visit]) -> None:
    """Leave an event for every unannounced visit, not yet closed, that someone off its team
    has just been shown (a list, a detail, the sync feed): who looked, and when, is for the
    auditors to see. Called by the reader, after the read."""
    secret = [
        v
        for v in visits
        if v.campaign.mode == Mode.UNANNOUNCED
        and v.status not in (VisitStatus.CLOSED, VisitStatus.CANCELLED)
    ]
    if not secret:
        return
    mine = set(my_teams(actor).values_list("pk", flat=True))
    read = [str(v.pk) for v in secret if v.team_id not in mine]
    if read:
        with acting(actor, "visit.read", savepoint=False):
            record_events(action="visit.read", object_type="visit", object_ids=read)
