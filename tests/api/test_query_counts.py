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

URLS = [
    "/api/v1/visits?page_size=200",
    "/api/v1/findings?page_size=200",
    "/api/v1/campaigns",
    "/api/v1/teams",
    "/api/v1/checklists",
    "/api/v1/sync",
    "/api/v1/stats",
    "/api/v1/officials",
    "/api/v1/units?level=village",
]


def add_rows(units, campaign, team, count: int) -> None:
    from audits.models import Photo

    for _ in range(count):
        village = UnitFactory(level="village", parent=units["town_a"])
        visit = VisitFactory(campaign=campaign, team=team, target=village, status="in_progress")
        finding = FindingFactory(visit=visit, status="submitted")
        # Each photo matches the one before it: `reused` is decided per reader, per page.
        earlier = list(Photo.objects.order_by("-created_at").values_list("pk", flat=True)[:1])
        Photo.objects.create(
            finding=finding,
            visit=visit,
            uploaded_by=team.lead,
            sha256=f"{Photo.objects.count():064x}",
            size=1,
            content_type="image/jpeg",
            original="originals/x",
            status="ready",
            matches=earlier,
        )


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
    synced = clients["lead"].get("/api/v1/sync?limit=2000").json()["changes"]["photos"]
    assert len(synced) == 40
    assert sum("reused" in photo["flags"] for photo in synced) == 39


def test_officials_and_photos_of_a_finding_read_the_same_in_list_detail_and_sync():
    """Lists and the sync feed take these ids from the finding's own row, a single finding
    from its relations: all three must agree (officials sorted, photos in upload order)."""
    from datetime import timedelta

    from django.utils import timezone

    from audits.models import Photo
    from tests.factories import OfficialFactory

    units = tree()
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    visit = VisitFactory(
        team=TeamFactory(lead=lead), target=units["village_a"], status="in_progress"
    )
    finding = FindingFactory(visit=visit)
    officials = [OfficialFactory() for _ in range(3)]
    finding.responsible_officials.set(officials)
    now = timezone.now()
    photos = []
    for age in (1, 3, 2):  # created out of id order: upload order must win
        photo = Photo.objects.create(
            finding=finding,
            visit=visit,
            uploaded_by=lead,
            sha256=f"{age:064x}",
            size=1,
            content_type="image/jpeg",
            original=f"originals/{age}",
        )
        Photo.objects.filter(pk=photo.pk).update(created_at=now - timedelta(minutes=age))
        photos.append((now - timedelta(minutes=age), str(photo.pk)))
    expected_photos = [pk for _, pk in sorted(photos)]
    expected_officials = sorted(str(o.pk) for o in officials)
    client = bearer(lead)
    answers = [
        client.get(f"/api/v1/findings/{finding.pk}").json(),
        client.get(f"/api/v1/findings?visit={visit.pk}").json()["results"][0],
        client.get("/api/v1/sync").json()["changes"]["findings"][0],
    ]
    for answer in answers:
        assert answer["responsible_officials"] == expected_officials
        assert answer["photos"] == expected_photos
