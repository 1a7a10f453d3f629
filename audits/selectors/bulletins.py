"""Reads of bulletins, and the compile's reads: what one bulletin says, from what its planner
may see. Every read starts from `visibility.visible`.

`contents()` is the compile's whole selection: published findings only (an unannounced
visit's findings are published only once it is closed), closed visits only, and of an
unannounced visit nothing while any of its findings still awaits publication. It returns
plain data (JSON-ready) that the compile keeps as the bulletin's snapshot; the renderer's
document is built from it (audits/services/bulletins.py), so a draft issued later prints
exactly what was previewed.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import (
    PUBLISHED_STATES,
    FindingStatus,
    Level,
    Mode,
    Role,
    Severity,
    Title,
    VisitStatus,
)
from audits.errors import Conflict, ErrorCode, NotFound
from audits.models import (
    Bulletin,
    BulletinRecipient,
    BulletinStatus,
    Campaign,
    Finding,
    Official,
    Photo,
    PhotoPurpose,
    PhotoStatus,
    Position,
    RecipientKind,
    RecipientSource,
    Unit,
    User,
    Visit,
)
from audits.visibility import visible

CONTENT_FORMAT = 1
# Typical cases (典型问题): one published finding in ten, at least three, at most fifty, the
# most serious first and, among equals, those with evidence photos.
CASE_SHARE, MIN_CASES, MAX_CASES = 10, 3, 50
PHOTOS_PER_CASE = 2
# Who leadership is (主送): by position on the day, and users with the leader role.
LEADER_TITLES = (Title.PARTY_SECRETARY, Title.DEPUTY_SECRETARY, Title.ORG_DEPARTMENT_HEAD)
SEVERITY_ORDER = (Severity.SERIOUS, Severity.MAJOR, Severity.MINOR)
COUNTY_LEVELS = (Level.COUNTY, Level.ZONE)


# --- lists and details ---------------------------------------------------------------------


def bulletins_for(
    user: User,
    *,
    status: str | None = None,
    unit: Unit | None = None,
    year: int | None = None,
    addressed: bool = False,
) -> QuerySet[Bulletin]:
    """The bulletins the user may see; `addressed`: only those sent to them."""
    qs = visible(user, Bulletin).select_related("unit", "issuer")
    if status:
        qs = qs.filter(status=status)
    if unit is not None:
        qs = qs.filter(Q(unit__path__startswith=unit.path) | Q(issuer__path__startswith=unit.path))
    if year:
        qs = qs.filter(year=year)
    if addressed:
        qs = qs.filter(
            Exists(BulletinRecipient.objects.filter(bulletin=OuterRef("pk"), user=user)),
            status=BulletinStatus.ISSUED,
        )
    return qs


def inbox_for(user: User) -> QuerySet[Bulletin]:
    """Issued bulletins addressed to the user, newest first, each with their own copy's
    delivery and acknowledgement (`my_delivered_at`, `my_acknowledged_at`)."""
    mine = BulletinRecipient.objects.filter(bulletin=OuterRef("pk"), user=user)
    return (
        bulletins_for(user, addressed=True)
        .annotate(
            my_delivered_at=mine.values("delivered_at")[:1],
            my_acknowledged_at=mine.values("acknowledged_at")[:1],
        )
        .order_by("-issued_at", "id")
    )


FILE_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def bulletin_file(user: User, bulletin_id: Any, kind: str) -> tuple[Bulletin, str, str]:
    """(bulletin, storage name, SHA-256) of its PDF or DOCX, for who may see the bulletin;
    404 for anyone else, 409 while the file is not rendered yet."""
    bulletin = visible(user, Bulletin).filter(pk=bulletin_id).first()
    if bulletin is None:
        raise NotFound()
    name, digest = (
        (bulletin.pdf, bulletin.sha256) if kind == "pdf" else (bulletin.docx, bulletin.docx_sha256)
    )
    if not name:
        raise Conflict(code=ErrorCode.BULLETIN_NOT_READY)
    return bulletin, name, digest


def file_name(bulletin: Bulletin, kind: str) -> str:
    """督查通报2015年第3期.pdf, or 督查通报（草稿）….docx while it is a draft."""
    label = bulletin.issue_label or f"（草稿）{bulletin.title[:40]}"
    return f"督查通报{label}.{kind}"


def recipients_of(user: User, bulletin: Bulletin) -> QuerySet[BulletinRecipient]:
    """Who the bulletin goes to, as far as the user may know: all of them for its planners
    and auditors, their own copy for a recipient."""
    return (
        visible(user, BulletinRecipient)
        .filter(bulletin=bulletin)
        .select_related("user")
        .order_by("kind", "label", "id")
    )


def issued_count(user: User, *, scope: Unit | None, start: date | None, end: date | None) -> int:
    """Bulletins issued in [start, end] that the user may see, about or by `scope`'s units."""
    qs = visible(user, Bulletin).filter(status=BulletinStatus.ISSUED)
    if scope is not None:
        qs = qs.filter(
            Q(unit__path__startswith=scope.path) | Q(issuer__path__startswith=scope.path)
        )
    if start:
        qs = qs.filter(issued_on__gte=start)
    if end:
        qs = qs.filter(issued_on__lte=end)
    return qs.count()


def campaigns_to_report(user: User) -> QuerySet[Campaign]:
    """Campaigns a planner may ask a bulletin for (the request form's choices)."""
    return visible(user, Campaign).select_related("unit").order_by("-ends_on", "title")


def units_to_report(user: User) -> QuerySet[Unit]:
    """The user's home unit and the counties (and zones) under it: what bulletins and the
    leadership's figures are usually about. The API takes any unit of the jurisdiction."""
    home = user.unit
    if home is None:
        return Unit.objects.none()
    return visible(user, Unit).filter(
        Q(pk=home.pk) | Q(path__startswith=home.path, level__in=COUNTY_LEVELS)
    )


def inspection_rounds(user: User, *, scope: Unit | None, start: date, end: date) -> int:
    """Inspection rounds (明察暗访, a campaign each) with a visit closed in [start, end] under
    `scope`, as far as the user may see: the article's "22 inspections"."""
    visits = visible(user, Visit).filter(
        status=VisitStatus.CLOSED, closed_at__date__gte=start, closed_at__date__lte=end
    )
    if scope is not None:
        visits = visits.filter(target__path__startswith=scope.path)
    return visits.order_by().values("campaign_id").distinct().count()


def leadership_figures(user: User, *, scope: Unit | None, start: date, end: date) -> dict:
    """The dashboard: `/stats` for the scope and period, the article's four numbers first,
    and the findings of each unit one level down (per county, for the city)."""
    from audits.selectors.stats import figures  # stats imports this module (bulletins_issued)

    data = figures(user, unit=scope, start=start, end=end)
    # TODO(branch acc): `/stats` gains campaigns_done (and the accountability figures) on
    # branch acc; until it is merged the dashboard counts the rounds itself, the same way.
    rounds = data.get("campaigns_done")
    if rounds is None:
        rounds = inspection_rounds(user, scope=scope, start=start, end=end)
    by_code = data["findings"]["by_unit"]
    children = Unit.objects.filter(parent=scope).order_by("code") if scope else []
    bars = [(child.name, by_code.get(child.code, 0)) for child in children]
    severity = data["findings"]["by_severity"]
    rectified = data["rectification"]
    return {
        "figures": data,
        "severity": [(s.label, severity.get(s.value, 0)) for s in SEVERITY_ORDER],
        "rectification": [
            (_("整改已验收"), rectified["verified"]),
            (_("按期完成"), rectified["on_time"]),
            (_("逾期未整改"), rectified["overdue"]),
        ],
        "inspections": rounds,
        "interviewed": data["officials_interviewed"],
        "bulletins": data["bulletins_issued"],
        "adjustments": data["reassignments_effective"],
        "bars": bars,
        "most": max([n for _, n in bars] + [1]),
    }


# --- who receives a bulletin ---------------------------------------------------------------


@dataclass(frozen=True)
class Addressee:
    user: User
    kind: str  # RecipientKind
    source: str  # RecipientSource
    label: str  # as the colophon prints it


def _units_in_scope(scope: Unit) -> list[Unit]:
    """The scope and the county-level units under it (the article's 县区)."""
    return list(
        Unit.objects.filter(
            Q(pk=scope.pk) | Q(path__startswith=scope.path, level__in=COUNTY_LEVELS)
        ).order_by("path")
    )


def addressees(planner: User, *, issuer: Unit, scope: Unit, on: date) -> list[Addressee]:
    """Leadership on day `on`: of the units in scope (主送) and of the issuing unit (抄送,
    when it is not among them), by position (secretary, deputy, organisation head, when
    their official has an account) and by the leader role. Read as the planner sees them."""
    units = _units_in_scope(scope)
    main_ids = {u.pk for u in units}
    if issuer.pk not in main_ids:
        units.append(issuer)
    order = {u.pk: n for n, u in enumerate(units)}
    found: dict[int, Addressee] = {}
    positions = (
        visible(planner, Position)
        .filter(Q(end__isnull=True) | Q(end__gte=on), start__lte=on)
        .filter(
            unit__in=units,
            title__in=LEADER_TITLES,
            official__user__isnull=False,
            official__user__is_active=True,
        )
        .select_related("official__user", "unit")
    )
    ranked = sorted(
        positions,
        key=lambda p: (order[p.unit_id], LEADER_TITLES.index(p.title), p.official.name),
    )
    for position in ranked:
        user = position.official.user
        if user.pk not in found:
            found[user.pk] = Addressee(
                user=user,
                kind=RecipientKind.MAIN if position.unit_id in main_ids else RecipientKind.COPY,
                source=RecipientSource.POSITION,
                label=f"{position.unit.name}{Title(position.title).label}{position.official.name}",
            )
    by_role = (
        visible(planner, User)
        .filter(is_active=True, roles__contains=[Role.LEADER], unit__in=units)
        .select_related("unit")
        .order_by("username")
    )
    for user in sorted(by_role, key=lambda u: order[u.unit_id]):
        if user.pk not in found:
            found[user.pk] = Addressee(
                user=user,
                kind=RecipientKind.MAIN if user.unit_id in main_ids else RecipientKind.COPY,
                source=RecipientSource.ROLE,
                label=person_label(user),
            )
    return list(found.values())


def person_label(user: User) -> str:
    """A person as a distribution list names them: their unit, then their name."""
    name = user.label
    unit = user.unit.name if user.unit is not None else ""
    return name if not unit or name.startswith(unit) else f"{unit}{name}"


def may_be_added(planner: User) -> QuerySet[User]:
    """People a planner may add to a distribution list: active users they may see."""
    return visible(planner, User).filter(is_active=True).select_related("unit")


# --- the compile's selection ---------------------------------------------------------------


def issuing_body(unit: Unit) -> str:
    """发文机关: the party organisation department of the issuing unit."""
    name = unit.name
    if unit.level == Level.CITY:
        return f"中共{name}委组织部"
    if unit.level == Level.COUNTY:
        return f"中共{name}县委组织部" if name.endswith("县") else f"中共{name}委组织部"
    if unit.level == Level.ZONE:
        return f"中共{name}工委组织部"
    return f"中共{name}委员会"


def scope_name(scope: Unit) -> str:
    """How the overview names the units in scope: 全市, 全县, 全区, or the unit's name."""
    if scope.level == Level.CITY:
        return "全市"
    if scope.level == Level.COUNTY:
        return "全县" if scope.name.endswith("县") else "全区"
    return scope.name


def accountability(
    user: User, *, scope: Unit, start: date, end: date, campaign: Campaign | None
) -> tuple[list[dict], list[dict]]:
    """Interviews held and adjustments made in the period, for the bulletin's section 约谈和
    组织调整: ([{official, unit, title, kind, held_on}], [{official, unit, action,
    decision_number, effective_on}]), ISO dates.

    TODO(branch acc): the accountability capability (interviews, reassignments) is being
    built on branch `acc`; until it is merged there is nothing to read, and the section says
    本期无约谈和组织调整事项. Wire its selectors in here (visible interviews held and
    reassignments effective in [start, end] under `scope`), and the overview's
    officials_interviewed and adjustments follow.
    """
    return [], []


def _county_of(path: str) -> str:
    """The code of the county-level unit on a path (its second segment), or the root's."""
    codes = path.strip("/").split("/")
    return codes[1] if len(codes) > 1 else codes[0]


def _released_visits(
    user: User, *, scope: Unit, start: date, end: date, campaign: Campaign | None
) -> QuerySet[Visit]:
    """Closed visits in scope, in the period (or of the campaign, whenever they closed),
    without the unannounced ones that still have a finding awaiting publication."""
    visits = visible(user, Visit).filter(
        status=VisitStatus.CLOSED, target__path__startswith=scope.path
    )
    if campaign is not None:
        visits = visits.filter(campaign=campaign)
    else:
        visits = visits.filter(closed_at__date__gte=start, closed_at__date__lte=end)
    pending = Finding.objects.filter(
        visit=OuterRef("pk"), status__in=[FindingStatus.SUBMITTED, FindingStatus.CONFIRMED]
    )
    return visits.exclude(Q(campaign__mode=Mode.UNANNOUNCED) & Q(Exists(pending)))


def _published(
    user: User, *, scope: Unit, start: date, end: date, campaign: Campaign | None
) -> QuerySet[Finding]:
    findings = visible(user, Finding).filter(
        status__in=PUBLISHED_STATES,
        visit__target__path__startswith=scope.path,
        observed_at__date__gte=start,
        observed_at__date__lte=end,
    )
    if campaign is not None:
        findings = findings.filter(visit__campaign=campaign)
    return findings


def _status_label(status: str, overdue: bool) -> str:
    if status == FindingStatus.VERIFIED:
        return "已整改"
    if overdue:
        return "逾期未整改"
    if status == FindingStatus.RECTIFICATION_SUBMITTED:
        return "整改已报"
    return "整改中"


def contents(
    user: User,
    *,
    scope: Unit,
    issuer: Unit,
    start: date,
    end: date,
    campaign: Campaign | None,
    today: date,
) -> dict:
    """Everything the bulletin reports, as the planner `user` may see it (JSON-ready).

    Call it in one REPEATABLE READ transaction: its figures then agree with each other.
    The labels it writes are the document's Chinese, whatever language is active.
    """
    visits = list(
        _released_visits(user, scope=scope, start=start, end=end, campaign=campaign).values(
            "campaign_id", "target_id"
        )
    )
    findings = _published(user, scope=scope, start=start, end=end, campaign=campaign)
    rows = list(
        findings.annotate(
            rank=Case(
                *(When(severity=s, then=Value(n)) for n, s in enumerate(SEVERITY_ORDER)),
                output_field=IntegerField(),
            ),
            has_photos=Exists(_evidence(user).filter(finding=OuterRef("pk"))),
        )
        .order_by("rank", "-has_photos", "observed_at", "id")
        .values(
            "id",
            "title",
            "description",
            "severity",
            "status",
            "observed_at",
            "rectify_by",
            "visit__target__name",
            "visit__target__path",
            "responsible_unit_id",
            "responsible_unit__name",
            "responsible_unit__path",
            "checklist_item__category",
        )
    )
    counties = _counties(scope, rows)
    responsible = _responsible(user, rows)

    severity = Counter(r["severity"] for r in rows)
    category = Counter(r["checklist_item__category"] for r in rows)
    by_county = Counter(_county_of(r["visit__target__path"]) for r in rows)

    def overdue(r: dict) -> bool:
        return (
            r["status"] in (FindingStatus.PUBLISHED, FindingStatus.RETURNED)
            and r["rectify_by"] is not None
            and r["rectify_by"] < today
        )

    chosen = rows[: min(MAX_CASES, max(MIN_CASES, math.ceil(len(rows) / CASE_SHARE)))]
    photos = _case_photos(user, [r["id"] for r in chosen])
    cases = [
        {
            "finding": str(r["id"]),
            "title": r["title"],
            "unit": r["visit__target__name"],
            "county": counties.get(_county_of(r["visit__target__path"]), ""),
            "category": r["checklist_item__category"],
            "severity": str(Severity(r["severity"]).label),
            "description": r["description"] or r["title"],
            "observed_on": _local_day(r["observed_at"]).isoformat(),
            "responsible": responsible.get(r["id"], []),
            "deadline": r["rectify_by"].isoformat() if r["rectify_by"] else None,
            "status": _status_label(r["status"], overdue(r)),
            "photos": [
                {"id": str(p["id"]), "preview": p["preview"], "caption": f"{r['title']}（{k}）"}
                for k, p in enumerate(photos.get(r["id"], []), 1)
            ],
        }
        for r in chosen
    ]
    late = sorted((r for r in rows if overdue(r)), key=lambda r: (r["rectify_by"], r["title"]))
    interviews, adjustments = accountability(
        user, scope=scope, start=start, end=end, campaign=campaign
    )
    verified = sum(1 for r in rows if r["status"] == FindingStatus.VERIFIED)
    return {
        "format": CONTENT_FORMAT,
        "as_of": today.isoformat(),
        "issuing_body": issuing_body(issuer),
        "scope": scope_name(scope),
        "overview": {
            "inspection_rounds": len({v["campaign_id"] for v in visits}),
            "visits_done": len(visits),
            "units_covered": len({v["target_id"] for v in visits}),
            "findings_total": len(rows),
            "findings_by_severity": [
                [str(s.label), severity[s.value]] for s in SEVERITY_ORDER if severity[s.value]
            ],
            "officials_interviewed": len({i["official"] for i in interviews}),
            "adjustments": len(adjustments),
        },
        "by_county": [[name, by_county[code]] for code, name in counties.items()] if rows else [],
        "by_category": [[label, n] for label, n in category.most_common()],
        "cases": cases,
        "interviews": interviews,
        "adjustments": adjustments,
        "rectification": {
            "verified": verified,
            "on_time": len(rows) - verified - len(late),
            "overdue": len(late),
            "overdue_items": [
                {
                    "title": r["title"],
                    "unit": r["responsible_unit__name"],
                    "county": counties.get(_county_of(r["responsible_unit__path"]), ""),
                    "responsible": "、".join(
                        name.split("（")[0] for name in responsible.get(r["id"], [])
                    )
                    or "—",
                    "deadline": r["rectify_by"].isoformat(),
                    "days_overdue": (today - r["rectify_by"]).days,
                }
                for r in late
            ],
        },
        "findings": [str(r["id"]) for r in rows],
    }


def _local_day(moment: datetime) -> date:
    return timezone.localdate(moment)


def _counties(scope: Unit, rows: list[dict]) -> dict[str, str]:
    """Code → name of the county-level units in scope, in code order (and any other county a
    finding's unit lies in, such as the scope itself when it lies below a county)."""
    wanted = Unit.objects.filter(path__startswith=scope.path, level__in=COUNTY_LEVELS)
    names = dict(wanted.order_by("code").values_list("code", "name"))
    extra = {
        _county_of(r[key])
        for r in rows
        for key in ("visit__target__path", "responsible_unit__path")
    } - set(names)
    if extra:
        names.update(Unit.objects.filter(code__in=extra).values_list("code", "name"))
    if not names and scope.level in COUNTY_LEVELS:
        names[scope.code] = scope.name
    return names


def _responsible(user: User, rows: list[dict]) -> dict:
    """Finding id → ["张堃（党组织书记）", …]: each official held responsible, with the title
    they held at the finding's unit on the day it was observed."""
    ids = [r["id"] for r in rows]
    if not ids:
        return {}
    through = Finding.responsible_officials.through.objects.filter(finding_id__in=ids)
    links = list(
        through.filter(official__in=visible(user, Official)).values(
            "finding_id", "official_id", "official__name"
        )
    )
    if not links:
        return {}
    facts = {r["id"]: r for r in rows}
    titles: dict[tuple, list] = defaultdict(list)
    for p in Position.objects.filter(
        official_id__in={link["official_id"] for link in links},
        unit_id__in={r["responsible_unit_id"] for r in rows},
    ).values("official_id", "unit_id", "title", "start", "end"):
        titles[(p["official_id"], p["unit_id"])].append(p)
    out: dict = defaultdict(list)
    for link in sorted(links, key=lambda x: x["official__name"]):
        row = facts[link["finding_id"]]
        day = _local_day(row["observed_at"])
        held = [
            p
            for p in titles.get((link["official_id"], row["responsible_unit_id"]), [])
            if p["start"] <= day and (p["end"] is None or p["end"] >= day)
        ]
        name = link["official__name"]
        out[link["finding_id"]].append(
            f"{name}（{Title(held[0]['title']).label}）" if held else name
        )
    return dict(out)


def _evidence(user: User) -> QuerySet[Photo]:
    """Evidence photos with a stored preview that the user may see."""
    return (
        visible(user, Photo)
        .filter(status=PhotoStatus.READY, purpose=PhotoPurpose.EVIDENCE, finding__isnull=False)
        .exclude(preview="")
    )


def _case_photos(user: User, finding_ids: list) -> dict:
    """Finding id → its first evidence photos (id, preview storage name), at most two."""
    out: dict = defaultdict(list)
    rows = (
        _evidence(user)
        .filter(finding_id__in=finding_ids)
        .order_by("finding_id", "created_at", "id")
        .values("id", "finding_id", "preview")
    )
    for row in rows:
        if len(out[row["finding_id"]]) < PHOTOS_PER_CASE:
            out[row["finding_id"]].append(row)
    return dict(out)
