"""Dates have bounds someone could mean (audits/dates.py): the edges, and the reported case.

The table of bad values for every date in a body is in tests/api/test_problems.py.
"""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audits import dates
from audits.choices import Role
from audits.models import Campaign
from audits.services.draws import campaign_days
from tests.api.test_problems import assert_problem
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


@pytest.fixture
def world():
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    team = TeamFactory(lead=lead)
    campaign = CampaignFactory(unit=units["city"])
    item = ChecklistItemFactory(checklist=campaign.checklist)
    return {
        "units": units,
        "planner": planner,
        "lead": lead,
        "team": team,
        "campaign": campaign,
        "item": item,
    }


def campaign_body(w, starts_on: date, ends_on: date) -> dict:
    return {
        "title": "边界",
        "mode": "unannounced",
        "unit": str(w["units"]["city"].pk),
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "checklist": str(w["campaign"].checklist_id),
    }


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [(date(1, 1, 1), date(1, 1, 31)), (date(4, 2, 29), date(4, 3, 31))],
)
def test_a_campaign_in_year_one_is_refused_before_it_can_be_drawn(world, starts_on, ends_on):
    planner = bearer(world["planner"])
    answer = planner.post(
        "/api/v1/campaigns", campaign_body(world, starts_on, ends_on), format="json"
    )
    body = assert_problem(answer, 400)
    assert "starts_on" in body["errors"]
    assert not Campaign.objects.filter(starts_on=starts_on).exists()


def test_campaign_edges(world):
    planner = bearer(world["planner"])
    today = timezone.localdate()
    first = today - dates.CAMPAIGN_PAST
    last = today + dates.CAMPAIGN_FUTURE
    longest = dates.CAMPAIGN_MAX_DAYS - 1

    def post(starts_on, ends_on):
        return planner.post(
            "/api/v1/campaigns", campaign_body(world, starts_on, ends_on), format="json"
        )

    assert post(first, first + timedelta(days=10)).status_code == 201
    assert "starts_on" in post(first - timedelta(days=1), first).json()["errors"]
    assert post(last - timedelta(days=longest), last).status_code == 201
    assert "ends_on" in post(last, last + timedelta(days=1)).json()["errors"]
    assert post(today, today + timedelta(days=longest)).status_code == 201
    too_long = post(today, today + timedelta(days=longest + 1))
    assert "ends_on" in assert_problem(too_long, 400)["errors"]


def test_check_in_within_the_window_and_a_day_either_side(world):
    now = timezone.now()
    lead = bearer(world["lead"])

    def check_in(window_start, at):
        visit = VisitFactory(
            campaign=world["campaign"],
            team=world["team"],
            window_start=window_start,
            window_end=now + timedelta(days=3),
        )
        body = {"lat": 34.0, "lon": 117.0, "at": at.isoformat()}
        return lead.post(f"/api/v1/visits/{visit.pk}/check-in", body, format="json")

    start = now - timedelta(days=2)
    assert check_in(start, start - timedelta(hours=23)).status_code == 200
    late = check_in(start, start - timedelta(hours=25))
    assert "at" in assert_problem(late, 400)["errors"]
    assert check_in(start, now + timedelta(minutes=5)).status_code == 200
    future = check_in(start, now + timedelta(minutes=15))
    assert "at" in assert_problem(future, 400)["errors"]


def test_observed_at_within_the_window_and_a_day_either_side(world):
    now = timezone.now()
    visit = VisitFactory(
        campaign=world["campaign"],
        team=world["team"],
        status="in_progress",
        checked_in_at=now,
        window_start=now - timedelta(days=2),
        window_end=now - timedelta(hours=1),
    )
    lead = bearer(world["lead"])

    def record(observed_at):
        body = {
            "id": str(uuid.uuid4()),
            "visit": str(visit.pk),
            "checklist_item": str(world["item"].pk),
            "severity": "minor",
            "title": "边界",
            "observed_at": observed_at.isoformat(),
        }
        return lead.post("/api/v1/findings", body, format="json")

    assert record(visit.window_start - timedelta(hours=23)).status_code == 201
    assert record(now).status_code == 201  # after the window's end, within the day
    early = record(visit.window_start - timedelta(hours=25))
    assert "observed_at" in assert_problem(early, 400)["errors"]
    created = record(now).json()
    edited = lead.patch(
        f"/api/v1/findings/{created['id']}",
        {"observed_at": (visit.window_start - timedelta(days=3)).isoformat()},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert "observed_at" in assert_problem(edited, 400)["errors"]


def test_rectify_by_edges():
    today = date(2026, 12, 1)
    assert dates.deadline_problem(today, today)
    assert dates.deadline_problem(today + timedelta(days=1), today) is None
    assert dates.deadline_problem(today + timedelta(days=dates.RECTIFY_MAX_DAYS), today) is None
    assert dates.deadline_problem(today + timedelta(days=dates.RECTIFY_MAX_DAYS + 1), today)


@pytest.mark.parametrize(
    "window",
    [
        {"window_start": -1},
        {"window_end": +1},
        {"window_start": -48, "window_end": +48},
        {"window_start": +30, "window_end": +20},
    ],
)
def test_patching_a_window_is_checked_exactly_as_adding_one(world, window):
    """POST /visits and PATCH /visits/{id} give the same answer for the same window."""
    first, last = campaign_days(world["campaign"])
    edge = {"window_start": first, "window_end": last}
    values = {
        name: (edge[name] + timedelta(hours=hours)).isoformat() for name, hours in window.items()
    }
    if "window_start" in window and window["window_start"] > 0:
        values = {name: (first + timedelta(hours=h)).isoformat() for name, h in window.items()}
    planner = bearer(world["planner"])
    added = planner.post(
        "/api/v1/visits",
        {
            "campaign": str(world["campaign"].pk),
            "target": str(world["units"]["village_b"].pk),
            "team": str(world["team"].pk),
            **values,
        },
        format="json",
    )
    visit = VisitFactory(
        campaign=world["campaign"], team=world["team"], window_start=first, window_end=last
    )
    patched = planner.patch(
        f"/api/v1/visits/{visit.pk}", values, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(added, 400)
    assert_problem(patched, 400)
    assert patched.json() == added.json()
    visit.refresh_from_db()
    assert (visit.window_start, visit.window_end, visit.version) == (first, last, 1)
