"""Queries per request do not grow with the number of rows returned."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.choices import Role
from tests.conftest import bearer
from tests.factories import (
    CampaignFactory,
    FindingFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
    VisitFactory,
    tree,
)

pytestmark = pytest.mark.django_db

URLS = ["/api/v1/visits?page_size=200", "/api/v1/findings?page_size=200",
        "/api/v1/campaigns", "/api/v1/teams", "/api/v1/checklists", "/api/v1/sync",
        "/api/v1/stats", "/api/v1/officials", "/api/v1/units?level=village"]


def add_rows(units, campaign, team, count: int) -> None:
    for _ in range(count):
        village = UnitFactory(level="village", parent=units["town_a"])
        visit = VisitFactory(campaign=campaign, team=team, target=village,
                             status="in_progress")
        FindingFactory(visit=visit, status="submitted")


def counts(clients) -> dict:
    out = {}
    for name, client in clients.items():
        for url in URLS:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, url
            out[(name, url)] = len(queries)
    return out


def test_lists_and_sync_use_the_same_queries_for_3_rows_and_for_40():
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    team = TeamFactory(lead=lead)
    campaign = CampaignFactory(unit=units["city"])
    clients = {"planner": bearer(planner), "lead": bearer(lead)}
    add_rows(units, campaign, team, 3)
    few = counts(clients)
    add_rows(units, campaign, team, 37)
    many = counts(clients)
    assert many == few
    assert max(many.values()) <= 16
