"""The secrecy of unannounced visits, checked for every role against every read.

The matrix is generated: each user (every role, and the target's chain at each level)
against each endpoint, filter, count and feed, before and after publication. Where
DOMAIN.md says a user may not know of the visit, the answer must be exactly what a
missing object gets: 404, or absence, or a count that does not include it.
"""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits.choices import Role
from audits.models import Draw
from audits.services.draws import commitment
from tests.conftest import bearer
from tests.factories import (
    CampaignFactory,
    FindingFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)

pytestmark = pytest.mark.django_db

# Who may know of the unannounced visit before it is closed and published, and after.
USERS = {
    "planner_city": ([Role.PLANNER], "city"),
    "leader_city": ([Role.LEADER], "city"),
    "lead_a": ([Role.TEAM_LEAD], "city"),
    "inspector_a": ([Role.INSPECTOR], "city"),
    "auditor": ([Role.AUDITOR], "city"),
    "inspector_b": ([Role.INSPECTOR], "city"),
    "planner_county": ([Role.PLANNER], "county_a"),
    "leader_county": ([Role.LEADER], "county_a"),
    "planner_town": ([Role.PLANNER], "town_a"),
    "official_town": ([Role.UNIT_OFFICIAL], "town_a"),
    "official_village": ([Role.UNIT_OFFICIAL], "village_a"),
    "planner_other_county": ([Role.PLANNER], "county_b"),
    "official_other_village": ([Role.UNIT_OFFICIAL], "village_b"),
}
SEES_VISIT = {"planner_city", "leader_city", "lead_a", "inspector_a", "auditor"}
# After publication the target's chain sees the published finding (not the visit).
SEES_PUBLISHED = SEES_VISIT | {
    "planner_county",
    "leader_county",
    "planner_town",
    "official_village",
}


def build(published: bool):
    units = tree()
    users = {
        name: UserFactory(username=name, roles=roles, unit=units[home])
        for name, (roles, home) in USERS.items()
    }
    team_a = TeamFactory(lead=users["lead_a"], members=[users["inspector_a"]])
    TeamFactory(
        lead=UserFactory(roles=[Role.TEAM_LEAD], unit=units["city"]), members=[users["inspector_b"]]
    )
    campaign = CampaignFactory(
        unit=units["city"],
        mode="unannounced",
        starts_on=date.today() - timedelta(days=30),
        ends_on=date.today() - timedelta(days=1),
    )
    visit = VisitFactory(
        campaign=campaign,
        team=team_a,
        target=units["village_a"],
        status="closed" if published else "in_progress",
        closed_at=timezone.now() if published else None,
    )
    seed = "a-seed-for-the-matrix"
    Draw.objects.create(
        campaign=campaign,
        seed=seed,
        commitment=commitment(seed),
        frame_unit=units["county_a"],
        level="village",
        size=1,
        targets=[visit.target_id],
        frame=[visit.target.code],
        drawn_by=users["planner_city"],
    )
    finding = FindingFactory(
        visit=visit,
        status="published" if published else "submitted",
        rectify_by=date.today() + timedelta(days=30) if published else None,
    )
    return {
        "units": units,
        "users": users,
        "campaign": campaign,
        "visit": visit,
        "finding": finding,
    }


def reads(w):
    """(name, request, predicate on the answer telling whether the secret showed)."""
    c, v, f = w["campaign"].pk, w["visit"].pk, w["finding"].pk
    county, village = w["units"]["county_a"].pk, w["units"]["village_a"].pk

    def listed(ident):
        return lambda a: (
            a.status_code == 200 and str(ident) in {r["id"] for r in a.json()["results"]}
        )

    def found(a):
        return a.status_code == 200

    def counted(a):
        return a.status_code == 200 and a.json()["findings"]["total"] > 0

    def synced(a):
        changes = a.json()["changes"]
        return any(
            str(x["id"]) in {str(v), str(f)} for x in changes["visits"] + changes["findings"]
        )

    return {
        "campaign detail": ("get", f"/api/v1/campaigns/{c}", found, "visit"),
        "campaign list": ("get", "/api/v1/campaigns", listed(c), "visit"),
        "campaign list by mode": ("get", "/api/v1/campaigns?mode=unannounced", listed(c), "visit"),
        "campaign draw": ("get", f"/api/v1/campaigns/{c}/draw", found, "visit"),
        "visit detail": ("get", f"/api/v1/visits/{v}", found, "visit"),
        "visit list": ("get", "/api/v1/visits", listed(v), "visit"),
        "visit list by campaign": ("get", f"/api/v1/visits?campaign={c}", listed(v), "visit"),
        "visit list by status": (
            "get",
            f"/api/v1/visits?status={w['visit'].status}",
            listed(v),
            "visit",
        ),
        "visit check-in": (
            "post",
            f"/api/v1/visits/{v}/check-in",
            lambda a: a.status_code != 404,
            "visit",
        ),
        "visit close": (
            "post",
            f"/api/v1/visits/{v}/close",
            lambda a: a.status_code != 404,
            "visit",
        ),
        "finding detail": ("get", f"/api/v1/findings/{f}", found, "finding"),
        "finding list": ("get", "/api/v1/findings", listed(f), "finding"),
        "finding list by campaign": ("get", f"/api/v1/findings?campaign={c}", listed(f), "finding"),
        "finding list by unit": ("get", f"/api/v1/findings?unit={county}", listed(f), "finding"),
        "finding list by visit": ("get", f"/api/v1/findings?visit={v}", listed(f), "finding"),
        "finding list by severity": (
            "get",
            "/api/v1/findings?severity=major",
            listed(f),
            "finding",
        ),
        "finding confirm": (
            "post",
            f"/api/v1/findings/{f}/confirm",
            lambda a: a.status_code != 404,
            "finding",
        ),
        "stats for the county": ("get", f"/api/v1/stats?unit={county}", counted, "finding"),
        "stats for the village": ("get", f"/api/v1/stats?unit={village}", counted, "finding"),
        "sync": ("get", "/api/v1/sync", synced, "finding"),
    }


@pytest.mark.parametrize("published", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("who", sorted(USERS))
def test_matrix(who, published):
    w = build(published)
    client = bearer(w["users"][who])
    allowed = SEES_PUBLISHED if published else SEES_VISIT
    wrong = []
    for name, (method, url, showed, thing) in reads(w).items():
        may = who in SEES_VISIT if thing == "visit" else who in allowed
        body = (
            {"lat": 34.0, "lon": 117.0, "at": timezone.now().isoformat()}
            if method == "post"
            else None
        )
        answer = (
            getattr(client, method)(url, body, format="json")
            if body
            else getattr(client, method)(url)
        )
        if answer.status_code >= 500:
            wrong.append(f"{name}: {answer.status_code}")
        elif showed(answer) != may and not (may and method == "post"):
            wrong.append(f"{name}: {'hidden' if may else 'leaked'} ({answer.status_code})")
        if not may and answer.status_code == 404:
            assert answer.json()["code"] == "not_found", name
    assert wrong == [], f"{who} ({'after' if published else 'before'} publication)"


def test_404_for_a_secret_visit_is_identical_to_a_missing_one():
    w = build(published=False)
    client = bearer(w["users"]["planner_county"])
    secret = client.get(f"/api/v1/visits/{w['visit'].pk}")
    missing = client.get(f"/api/v1/visits/{uuid.uuid4()}")
    assert secret.status_code == missing.status_code == 404
    assert secret.json() == missing.json()
