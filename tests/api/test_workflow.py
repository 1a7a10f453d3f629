"""The field workflow end to end, as the mobile app and the planners' pages drive it."""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.choices import Role
from audits.models import AuditEvent, Finding, Notification, Visit
from tests.conftest import bearer
from tests.factories import (
    CampaignFactory,
    ChecklistItemFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)

pytestmark = pytest.mark.django_db
# Rectification deadlines lie within a year of today (audits/dates.py).
DEADLINE = (date.today() + timedelta(days=60)).isoformat()
LATER_DEADLINE = (date.today() + timedelta(days=90)).isoformat()


@pytest.fixture
def world():
    units = tree()
    units["city"].lat, units["city"].lon = 33.64, 116.98
    planner = UserFactory(username="planner_city", unit=units["city"], roles=[Role.PLANNER])
    lead = UserFactory(username="lead_a", unit=units["city"], roles=[Role.TEAM_LEAD])
    inspector = UserFactory(username="inspector_a", unit=units["city"], roles=[Role.INSPECTOR])
    team = TeamFactory(lead=lead, members=[inspector])
    campaign = CampaignFactory(unit=units["city"])
    item = ChecklistItemFactory(checklist=campaign.checklist, code="VEN-1")
    target = units["village_a"]
    target.lat, target.lon = 34.19, 116.94
    target.save()
    visit = VisitFactory(campaign=campaign, team=team, target=target)
    official = UserFactory(username="official_a", unit=target, roles=[Role.UNIT_OFFICIAL])
    county_planner = UserFactory(
        username="planner_county", unit=units["county_a"], roles=[Role.PLANNER]
    )
    return {
        "units": units,
        "planner": planner,
        "lead": lead,
        "inspector": inspector,
        "team": team,
        "campaign": campaign,
        "item": item,
        "visit": visit,
        "official": official,
        "county_planner": county_planner,
    }


def finding_body(w, **extra):
    body = {
        "id": str(uuid.uuid4()),
        "visit": str(w["visit"].pk),
        "checklist_item": str(w["item"].pk),
        "severity": "serious",
        "title": "村级活动场所面积不足",
        "description": "实测120平方米，低于200平方米标准",
        "measured_value": 120,
        "observed_at": timezone.now().isoformat(),
    }
    body.update(extra)
    return body


def test_campaign_create_with_client_id_is_repeatable(world):
    planner = bearer(world["planner"])
    body = {
        "id": str(uuid.uuid4()),
        "title": "2015年度基层党建重点工作暗访",
        "mode": "unannounced",
        "unit": str(world["units"]["city"].pk),
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "checklist": str(world["campaign"].checklist_id),
    }
    first = planner.post("/api/v1/campaigns", body, format="json")
    assert first.status_code == 201, first.content
    assert first["ETag"] == '"1"'
    again = planner.post("/api/v1/campaigns", body, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    other = planner.post("/api/v1/campaigns", {**body, "title": "别的"}, format="json")
    assert other.status_code == 409
    assert other.json()["code"] == "id_conflict"
    wrong = planner.post(
        "/api/v1/campaigns",
        {**body, "id": str(uuid.uuid4()), "ends_on": "2026-11-01"},
        format="json",
    )
    assert wrong.status_code == 400
    assert "ends_on" in wrong.json()["errors"]


def test_county_planner_cannot_own_a_city_campaign(world):
    county = bearer(world["county_planner"])
    answer = county.post(
        "/api/v1/campaigns",
        {
            "title": "越权",
            "mode": "announced",
            "unit": str(world["units"]["city"].pk),
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "checklist": str(world["campaign"].checklist_id),
        },
        format="json",
    )
    assert answer.status_code == 403


def test_team_create(world):
    planner = bearer(world["planner"])
    answer = planner.post(
        "/api/v1/teams",
        {"name": "第三暗访组", "lead": world["lead"].pk, "members": [world["inspector"].pk]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["members"] == sorted([world["lead"].pk, world["inspector"].pk])
    bad = planner.post(
        "/api/v1/teams", {"name": "x", "lead": world["official"].pk, "members": []}, format="json"
    )
    assert bad.status_code == 400
    assert "lead" in bad.json()["errors"]
    inspector = bearer(world["inspector"])
    assert (
        inspector.post(
            "/api/v1/teams", {"name": "x", "lead": world["lead"].pk}, format="json"
        ).status_code
        == 403
    )


def test_check_in_far_from_target_is_accepted_and_flagged(world):
    inspector = bearer(world["inspector"])
    url = f"/api/v1/visits/{world['visit'].pk}/check-in"
    at = timezone.now().isoformat()
    bad = inspector.post(url, {"lat": 95, "lon": 116.9, "at": at}, format="json")
    assert bad.status_code == 400
    assert "lat" in bad.json()["errors"]
    assert Visit.objects.get(pk=world["visit"].pk).status == "planned"
    answer = inspector.post(
        url, {"lat": 34.30, "lon": 116.94, "accuracy_m": 8, "at": at}, format="json"
    )
    assert answer.status_code == 200, answer.content
    visit = answer.json()
    assert visit["status"] == "in_progress"
    assert visit["checkin"] == {"lat": 34.3, "lon": 116.94, "accuracy_m": 8.0}
    assert visit["checkin_distance_m"] == pytest.approx(12_231, rel=0.01)
    assert visit["flags"] == ["far_from_target"]
    again = inspector.post(url, {"lat": 34.19, "lon": 116.94, "at": at}, format="json")
    assert again.status_code == 409


def test_the_whole_lifecycle_and_the_secrecy_around_it(world):
    w = world
    inspector, lead, planner = bearer(w["inspector"]), bearer(w["lead"]), bearer(w["planner"])
    official, county = bearer(w["official"]), bearer(w["county_planner"])
    visit_url = f"/api/v1/visits/{w['visit'].pk}"

    # Before anything is published, the target's chain sees nothing at all.
    assert county.get(visit_url).status_code == 404
    assert county.get("/api/v1/visits").json()["results"] == []
    assert county.get("/api/v1/campaigns").json()["results"] == []

    inspector.post(
        f"{visit_url}/check-in",
        {"lat": 34.19, "lon": 116.94, "at": timezone.now().isoformat()},
        format="json",
    )
    body = finding_body(w)
    created = inspector.post("/api/v1/findings", body, format="json")
    assert created.status_code == 201, created.content
    finding_url = f"/api/v1/findings/{body['id']}"
    assert inspector.post("/api/v1/findings", body, format="json").status_code == 200
    assert (
        inspector.post("/api/v1/findings", {**body, "title": "改了"}, format="json").status_code
        == 409
    )
    assert Finding.objects.count() == 1

    # Draft edits need the version the client saw.
    assert inspector.patch(finding_url, {"severity": "major"}, format="json").status_code == 428
    assert (
        inspector.patch(
            finding_url, {"severity": "major"}, format="json", HTTP_IF_MATCH='"7"'
        ).status_code
        == 412
    )
    edited = inspector.patch(finding_url, {"severity": "major"}, format="json", HTTP_IF_MATCH='"1"')
    assert edited.status_code == 200
    assert edited["ETag"] == '"2"'
    assert edited.json()["severity"] == "major"

    # Only the lead submits; planners review, close and publish.
    assert inspector.post(f"{visit_url}/submit").status_code == 403
    assert lead.post(f"{visit_url}/submit").json()["status"] == "submitted"
    assert inspector.post("/api/v1/findings", finding_body(w), format="json").status_code == 409
    assert planner.post(f"{visit_url}/close").status_code == 409  # finding not reviewed
    assert planner.post(f"{finding_url}/confirm").json()["status"] == "confirmed"
    assert (
        planner.post(f"{finding_url}/publish", {"rectify_by": DEADLINE}, format="json").status_code
        == 409
    )  # visit still open
    assert planner.post(f"{visit_url}/close").json()["status"] == "closed"
    past = planner.post(f"{finding_url}/publish", {"rectify_by": "2020-01-01"}, format="json")
    assert past.status_code == 400
    assert "rectify_by" in past.json()["errors"]
    assert official.get(finding_url).status_code == 404
    published = planner.post(f"{finding_url}/publish", {"rectify_by": DEADLINE}, format="json")
    assert published.json()["status"] == "published"
    assert Notification.objects.filter(recipient=w["official"]).count() == 1

    # Now the unit and its chain see the published finding, and still not the visit.
    assert official.get(finding_url).status_code == 200
    assert county.get(finding_url).status_code == 200
    assert county.get(visit_url).status_code == 404

    answer = official.post(
        f"{finding_url}/rectification", {"report": "已扩建至220平方米", "photos": []}, format="json"
    )
    assert answer.json()["status"] == "rectification_submitted"
    returned = planner.post(
        f"{finding_url}/verify",
        {"accepted": False, "comment": "未见实物", "rectify_by": LATER_DEADLINE},
        format="json",
    )
    assert returned.json()["status"] == "returned"
    assert returned.json()["rectify_by"] == LATER_DEADLINE
    official.post(f"{finding_url}/rectification", {"report": "补充照片"}, format="json")
    verified = planner.post(
        f"{finding_url}/verify", {"accepted": True, "comment": "属实"}, format="json"
    )
    assert verified.json()["status"] == "verified"
    actions = set(AuditEvent.objects.filter(object_id=body["id"]).values_list("action", flat=True))
    assert {
        "finding.create",
        "finding.update",
        "visit.submit",
        "finding.confirm",
        "finding.publish",
        "finding.rectification",
        "finding.verify",
    } <= actions


def test_findings_refuse_other_teams_closed_visits_and_foreign_items(world):
    w = world
    stranger_lead = UserFactory(unit=w["units"]["city"], roles=[Role.TEAM_LEAD])
    TeamFactory(lead=stranger_lead)
    stranger = bearer(stranger_lead)
    answer = stranger.post("/api/v1/findings", finding_body(w), format="json")
    assert answer.status_code == 400
    assert "visit" in answer.json()["errors"]
    w["visit"].status = "in_progress"
    w["visit"].save()
    foreign = ChecklistItemFactory(code="OTHER-1")
    answer = bearer(w["inspector"]).post(
        "/api/v1/findings", finding_body(w, checklist_item=str(foreign.pk)), format="json"
    )
    assert answer.status_code == 400
    assert "checklist_item" in answer.json()["errors"]
    w["visit"].status = "closed"
    w["visit"].save()
    assert (
        bearer(w["inspector"]).post("/api/v1/findings", finding_body(w), format="json").status_code
        == 409
    )
    assert Finding.objects.count() == 0


def test_reading_a_secret_visit_off_the_team_is_audited(world):
    planner = bearer(world["planner"])
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert planner.get(f"/api/v1/visits/{world['visit'].pk}").status_code == 200
    planner.get("/api/v1/visits")
    reads = AuditEvent.objects.filter(seq__gt=start, action="visit.read")
    assert reads.count() == 2
    assert {e.actor_id for e in reads} == {world["planner"].pk}
    # The team's own reads are its work, not a leak.
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    bearer(world["inspector"]).get(f"/api/v1/visits/{world['visit'].pk}")
    assert not AuditEvent.objects.filter(seq__gt=start, action="visit.read").exists()


def test_reading_a_secret_campaign_off_the_team_is_audited(world):
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    planner = bearer(world["planner"])
    assert planner.get(f"/api/v1/campaigns/{world['campaign'].pk}").status_code == 200
    assert planner.get("/api/v1/campaigns").status_code == 200
    reads = AuditEvent.objects.filter(seq__gt=start, action="campaign.read")
    assert [(e.object_id, e.actor_id, e.operation) for e in reads] == [
        (str(world["campaign"].pk), world["planner"].pk, "read")
    ] * 2
    # Its only open visit is the inspector's team's own work: not a read of a secret.
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert bearer(world["inspector"]).get("/api/v1/campaigns").status_code == 200
    assert not AuditEvent.objects.filter(seq__gt=start, action="campaign.read").exists()


def test_overdue_filter(world):
    w = world
    from tests.factories import FindingFactory

    overdue = FindingFactory(
        visit=w["visit"], status="published", rectify_by=date.today() - timedelta(days=1)
    )
    FindingFactory(
        visit=w["visit"], status="published", rectify_by=date.today() + timedelta(days=1)
    )
    rows = bearer(w["planner"]).get("/api/v1/findings?overdue=true").json()["results"]
    assert [r["id"] for r in rows] == [str(overdue.pk)]
    assert bearer(w["planner"]).get("/api/v1/findings?severity=tragic").status_code == 400


def test_syncing_a_secret_visit_off_the_team_is_audited(world):
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert bearer(world["planner"]).get("/api/v1/sync").status_code == 200
    read = AuditEvent.objects.filter(seq__gt=start, action="visit.read").get()
    assert read.object_id == str(world["visit"].pk)
    assert read.actor_id == world["planner"].pk
