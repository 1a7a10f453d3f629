"""A small inspected world for the bulletin tests: a city with two counties, its planners and
leaders, a closed unannounced campaign with published findings and evidence photos, and the
secrets a bulletin must not show."""

import hashlib
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from audits.choices import FindingStatus, Level, Role, Severity, Title, VisitStatus
from audits.models import Bulletin, Photo, PhotoPurpose, PhotoStatus
from audits.photos.storage import derived_name
from audits.services import bulletins
from tests.factories import (
    CampaignFactory,
    ChecklistItemFactory,
    FindingFactory,
    OfficialFactory,
    PositionFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)
from tests.photos.make_corpus import noise

# Names with the rare characters of the issue: every one must print with a real glyph.
RARE = ("王堃", "李喆", "张珺", "刘昇", "陈琍", "赵翀", "周〇明")


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def preview(seed: int) -> tuple[str, str]:
    """A stored preview as the photo worker leaves it: (storage name, SHA-256)."""
    out = io.BytesIO()
    noise(seed, (640, 480)).save(out, "JPEG", quality=80)
    data = out.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    name = derived_name(digest, "preview")
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    return name, digest


@dataclass
class World:
    units: dict
    users: dict
    campaign: object
    findings: dict
    photos: list
    secret: dict = field(default_factory=dict)

    def __getattr__(self, name: str):
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def world(*, photos: bool = True) -> World:
    units = tree()
    city, county_a, county_b = units["city"], units["county_a"], units["county_b"]

    def user(name, roles, unit, **extra):
        return UserFactory(
            username=name, roles=roles, unit=unit, email=f"{name}@example.org", **extra
        )

    users = {
        "planner_city": user("planner_city", [Role.PLANNER], city, display_name="市委组织部经办人"),
        "planner_county": user("planner_county", [Role.PLANNER], county_a),
        "planner_other": user("planner_other", [Role.PLANNER], county_b),
        "leader_city": user("leader_city", [Role.LEADER], city, display_name="市委书记"),
        "leader_county": user(
            "leader_county", [Role.LEADER], county_a, display_name="甲县县委书记"
        ),
        # Leadership by position only: no leader role, an account linked to the official.
        "head_b": user("head_b", [Role.UNIT_OFFICIAL], county_b, display_name="乙县组织部长"),
        "auditor": user("auditor", [Role.AUDITOR], city),
        "inspector": user("inspector", [Role.INSPECTOR, Role.TEAM_LEAD], city),
        "outsider": user("outsider", [Role.INSPECTOR], county_b),
        "official_village": user("official_village", [Role.UNIT_OFFICIAL], units["village_a"]),
    }
    positions = (
        ("leader_city", city, Title.PARTY_SECRETARY, RARE[0]),
        ("leader_county", county_a, Title.PARTY_SECRETARY, RARE[1]),
        ("head_b", county_b, Title.ORG_DEPARTMENT_HEAD, RARE[2]),
    )
    for name, unit, title, person in positions:
        PositionFactory(
            official=OfficialFactory(name=person, user=users[name]), unit=unit, title=title
        )
    # A former secretary of county A: not leadership any more.
    gone = UserFactory(username="former_a", roles=[], unit=county_a, email="former@example.org")
    users["former_a"] = gone
    PositionFactory(
        official=OfficialFactory(name="吴建国", user=gone),
        unit=county_a,
        title=Title.DEPUTY_SECRETARY,
        start=date(2010, 1, 1),
        end=date(2014, 12, 31),
    )
    village_secretary = OfficialFactory(name=RARE[3])
    PositionFactory(official=village_secretary, unit=units["village_a"])

    team = TeamFactory(lead=users["inspector"], owner_unit=city)
    campaign = CampaignFactory(
        title="2015年度基层党建重点工作暗访",
        unit=city,
        mode="unannounced",
        starts_on=days_ago(60),
        ends_on=days_ago(20),
    )
    item = ChecklistItemFactory(checklist=campaign.checklist, category="阵地建设")
    other_item = ChecklistItemFactory(checklist=campaign.checklist, category="经费保障")

    def visit(target, closed_days_ago, status=VisitStatus.CLOSED):
        return VisitFactory(
            campaign=campaign,
            team=team,
            target=target,
            status=status,
            window_start=moment(days_ago(closed_days_ago + 3)),
            window_end=moment(days_ago(closed_days_ago - 1)),
            closed_at=moment(days_ago(closed_days_ago), 18) if status == "closed" else None,
        )

    visit_a = visit(units["village_a"], 30)
    visit_b = visit(units["village_b"], 25)

    def finding(v, title, severity, status, rectify_by, *, item=item, **extra):
        return FindingFactory(
            visit=v,
            checklist_item=item,
            severity=severity,
            title=title,
            description=f"{title}：实测面积不足标准。",
            status=status,
            rectify_by=rectify_by,
            observed_at=moment(v.closed_at.date() - timedelta(days=1)),
            published_at=v.closed_at + timedelta(days=1),
            created_by=users["inspector"],
            **extra,
        )

    findings = {
        "overdue": finding(
            visit_a, "村级活动场所面积不足", Severity.SERIOUS, FindingStatus.PUBLISHED, days_ago(5)
        ),
        "verified": finding(
            visit_a,
            "服务群众经费未拨付",
            Severity.MAJOR,
            FindingStatus.VERIFIED,
            days_ago(3),
            item=other_item,
        ),
        "open": finding(
            visit_b, "党建手册未发放", Severity.MINOR, FindingStatus.PUBLISHED, days_ago(-30)
        ),
    }
    findings["overdue"].responsible_officials.set([village_secretary])

    stored = []
    if photos:
        for seed in (1, 2, 3):  # the third is one too many for a case
            name, digest = preview(seed)
            stored.append(
                Photo.objects.create(
                    id=uuid.uuid4(),
                    finding=findings["overdue"],
                    visit=visit_a,
                    uploaded_by=users["inspector"],
                    purpose=PhotoPurpose.EVIDENCE,
                    sha256=digest,
                    size=1000,
                    content_type="image/jpeg",
                    original=f"originals/never-read/{digest}",
                    preview=name,
                    status=PhotoStatus.READY,
                )
            )

    # What no bulletin may show: a visit of the unannounced campaign still in progress,
    # and a closed one whose finding is confirmed but not yet published.
    open_visit = visit(units["town_a"], 2, status=VisitStatus.IN_PROGRESS)
    unpublished = visit(units["town_b"], 10)
    secret = {
        "open_finding": FindingFactory(
            visit=open_visit,
            checklist_item=item,
            title="秘密在办问题",
            status=FindingStatus.SUBMITTED,
            observed_at=moment(days_ago(2)),
            created_by=users["inspector"],
        ),
        "unpublished": FindingFactory(
            visit=unpublished,
            checklist_item=item,
            title="尚未通报问题",
            status=FindingStatus.CONFIRMED,
            observed_at=moment(days_ago(11)),
            created_by=users["inspector"],
        ),
    }
    assert units["town_a"].level == Level.TOWNSHIP
    return World(units, users, campaign, findings, stored, secret)


def compiled(bulletin_id) -> Bulletin:
    """Compile now, in this process, as the worker would; the bulletin afterwards."""
    bulletins.bulletin_compile(bulletin_id=bulletin_id)
    return Bulletin.objects.get(pk=bulletin_id)


def request(client, w: World, **body):
    """POST /bulletins for the city over the last 59 days (unless told otherwise)."""
    payload = {
        "unit": str(w.units["city"].pk),
        "period_start": days_ago(59).isoformat(),
        "period_end": days_ago(1).isoformat(),
        **body,
    }
    return client.post("/api/v1/bulletins", payload, format="json")
