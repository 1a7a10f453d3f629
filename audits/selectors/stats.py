"""The figures leadership asks for, over what the caller may see and nothing else."""

from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from audits.choices import FindingStatus, VisitStatus
from audits.models import Finding, Rectification, Unit, User, Visit
from audits.selectors.bulletins import issued_count
from audits.visibility import visible


def figures(user: User, *, unit: Unit | None, start: date | None, end: date | None) -> dict:
    """Counts for the period [start, end] under `unit` (default: the user's home unit)."""
    scope = unit or user.unit
    visits = visible(user, Visit).filter(status=VisitStatus.CLOSED)
    findings = visible(user, Finding).exclude(
        status__in=[FindingStatus.DRAFT, FindingStatus.DISMISSED]
    )
    if scope is not None:
        visits = visits.filter(target__path__startswith=scope.path)
        findings = findings.filter(visit__target__path__startswith=scope.path)
    if start:
        visits = visits.filter(closed_at__date__gte=start)
        findings = findings.filter(observed_at__date__gte=start)
    if end:
        visits = visits.filter(closed_at__date__lte=end)
        findings = findings.filter(observed_at__date__lte=end)
    done = visits.aggregate(n=Count("pk"), units=Count("target", distinct=True))
    today = timezone.localdate()
    on_time = Rectification.objects.filter(
        finding=OuterRef("pk"), accepted=True, submitted_at__date__lte=OuterRef("rectify_by")
    )
    totals = findings.aggregate(
        total=Count("pk"),
        verified=Count("pk", filter=Q(status=FindingStatus.VERIFIED)),
        overdue=Count(
            "pk",
            filter=Q(
                status__in=[FindingStatus.PUBLISHED, FindingStatus.RETURNED], rectify_by__lt=today
            ),
        ),
    )
    on_time_count = findings.filter(status=FindingStatus.VERIFIED).filter(Exists(on_time)).count()
    return {
        "visits_done": done["n"],
        "units_covered": done["units"],
        "findings": {
            "total": totals["total"],
            "by_severity": _count_by(findings, "severity"),
            "by_category": _count_by(findings, "checklist_item__category"),
            "by_unit": _by_child_unit(findings, scope),
        },
        # Interviews, bulletins and reassignments are counted once those capabilities
        # exist; until then there are none to count.
        "interviews_held": 0,
        "officials_interviewed": 0,
        "bulletins_issued": issued_count(user, scope=scope, start=start, end=end),
        "reassignments_effective": 0,
        "rectification": {
            "verified": totals["verified"],
            "on_time": on_time_count,
            "overdue": totals["overdue"],
        },
    }


def _count_by(findings: QuerySet[Finding], field: str) -> dict[str, int]:
    rows = findings.order_by().values(field).annotate(n=Count("pk"))
    return {row[field]: row["n"] for row in rows}


def _by_child_unit(findings: QuerySet[Finding], scope: Unit | None) -> dict[str, int]:
    """Findings per unit one level below the scope (per county for the city), by code."""
    if scope is None:
        return {}
    child = Unit.objects.filter(parent=scope).values_list("code", flat=True).first()
    if child is None:
        return {}
    prefix = len(scope.path) + len(child) + 1
    rows = (
        findings.order_by()
        .annotate(branch=Substr(F("visit__target__path"), 1, prefix))
        .values("branch")
        .annotate(n=Count("pk"))
    )
    return {row["branch"].rstrip("/").rsplit("/", 1)[-1]: row["n"] for row in rows}
