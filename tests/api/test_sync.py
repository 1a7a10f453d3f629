"""GET /sync: a full copy, then only changes, converging on what a full sync returns."""

import pytest
from django.db import connection

from audits.choices import Role
from audits.models import Finding
from tests.conftest import bearer, database_url_for
from tests.factories import (
    CampaignFactory,
    FindingFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)


def follow(client, cursor=None, limit=500):
    """Follow the cursor until has_more is false; returns (state, cursor, pages)."""
    pages = []
    while True:
        url = "/api/v1/sync" + (f"?limit={limit}" if limit else "")
        if cursor:
            url += f"&cursor={cursor}"
        answer = client.get(url)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        pages.append(body)
        cursor = body["cursor"]
        if not body["has_more"]:
            return cursor, pages


def apply(state: dict, pages: list[dict]) -> dict:
    for page in pages:
        if page.get("reset"):
            state = {}
        for kind, rows in page["changes"].items():
            for row in rows:
                state[(kind, row["id"])] = row
        for gone in page["removed"]:
            state.pop((f"{gone['type']}s", gone["id"]), None)
    return state


def full(client) -> dict:
    return apply({}, follow(client)[1])


# Each request is its own transaction in production; a test wrapped in one transaction
# would make every row "written by a transaction still running" and unfit to test sync.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    units = tree()
    lead_a = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    lead_b = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    team_a, team_b = TeamFactory(lead=lead_a), TeamFactory(lead=lead_b)
    campaign = CampaignFactory(unit=units["city"])
    visit = VisitFactory(
        campaign=campaign, team=team_a, target=units["village_a"], status="in_progress"
    )
    finding = FindingFactory(visit=visit)
    other = VisitFactory(campaign=campaign, team=team_b, target=units["village_b"])
    return {
        "units": units,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "team_a": team_a,
        "team_b": team_b,
        "campaign": campaign,
        "visit": visit,
        "finding": finding,
        "other": other,
    }


def test_full_sync_holds_what_the_inspector_may_see(world):
    state = full(bearer(world["lead_a"]))
    kinds = {}
    for kind, ident in state:
        kinds.setdefault(kind, set()).add(ident)
    assert kinds["visits"] == {str(world["visit"].pk)}
    assert kinds["findings"] == {str(world["finding"].pk)}
    assert len(kinds["units"]) == 7
    assert str(world["campaign"].checklist_id) in kinds["checklists"]


def test_incremental_sync_sends_only_what_changed(world):
    client = bearer(world["lead_a"])
    cursor, _ = follow(client)
    cursor, pages = follow(client, cursor)
    assert all(not rows for page in pages for rows in page["changes"].values())
    Finding.objects.filter(pk=world["finding"].pk).update(title="新标题")
    cursor, pages = follow(client, cursor)
    changes = pages[-1]["changes"]
    assert [f["title"] for f in changes["findings"]] == ["新标题"]
    assert changes["units"] == changes["visits"] == changes["checklists"] == []


def test_reassigned_visit_is_removed_for_the_old_team_and_arrives_for_the_new(world):
    from audits.services.visits import visit_update

    planner = UserFactory(unit=world["units"]["city"], roles=[Role.PLANNER])
    old, new = bearer(world["lead_a"]), bearer(world["lead_b"])
    old_state, old_cursor = {}, None
    old_cursor, pages = follow(old)
    old_state = apply(old_state, pages)
    new_cursor, pages = follow(new)
    new_state = apply({}, pages)
    visit = world["visit"]
    visit.status = "planned"
    visit.save()
    old_cursor, pages = follow(old, old_cursor)
    old_state = apply(old_state, pages)
    visit.refresh_from_db()
    visit_update(
        actor=planner, visit_id=visit.pk, if_match=f'"{visit.version}"', team=world["team_b"]
    )
    old_cursor, pages = follow(old, old_cursor)
    removed = {(r["type"], r["id"]) for r in pages[-1]["removed"]}
    assert removed == {("visit", str(visit.pk)), ("finding", str(world["finding"].pk))}
    assert apply(old_state, pages) == full(old)
    new_cursor, pages = follow(new, new_cursor)
    new_state = apply(new_state, pages)
    assert ("findings", str(world["finding"].pk)) in new_state
    assert new_state == full(new)


def test_cancelled_visit_leaves_the_teams_view(world):
    from audits.services.visits import visit_cancel

    planner = UserFactory(unit=world["units"]["city"], roles=[Role.PLANNER])
    client = bearer(world["lead_b"])
    cursor, pages = follow(client)
    state = apply({}, pages)
    assert ("visits", str(world["other"].pk)) in state
    visit_cancel(actor=planner, visit_id=world["other"].pk)
    cursor, pages = follow(client, cursor)
    assert pages[-1]["removed"] == [{"type": "visit", "id": str(world["other"].pk)}]
    assert apply(state, pages) == full(client)


def test_small_pages_converge(world):
    for _ in range(7):
        FindingFactory(visit=world["visit"])
    client = bearer(world["lead_a"])
    cursor, pages = follow(client, limit=3)
    assert len(pages) > 3
    assert apply({}, pages) == full(client)


def test_joining_a_team_resends_everything(world):
    from audits.services.teams import team_create

    planner = UserFactory(unit=world["units"]["city"], roles=[Role.PLANNER])
    newcomer = UserFactory(unit=world["units"]["city"], roles=[Role.TEAM_LEAD])
    client = bearer(newcomer)
    cursor, pages = follow(client)
    state = apply({}, pages)
    assert not any(kind == "visits" for kind, _ in state)
    team, _ = team_create(actor=planner, name="新组", lead=newcomer.pk, members=[])
    world["visit"].team = team
    world["visit"].save()
    cursor, pages = follow(client, cursor)
    state = apply(state, pages)
    assert state == full(client)
    assert ("visits", str(world["visit"].pk)) in state


@pytest.mark.parametrize("cursor", ["forged", "eyJ1IjoxfQ:1abc:xyz"])
def test_forged_cursor_is_400(world, cursor):
    answer = bearer(world["lead_a"]).get(f"/api/v1/sync?cursor={cursor}")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"


def test_another_users_cursor_is_400(world):
    cursor, _ = follow(bearer(world["lead_a"]))
    answer = bearer(world["lead_b"]).get(f"/api/v1/sync?cursor={cursor}")
    assert answer.status_code == 400
    assert "cursor" in answer.json()["errors"]


def test_a_change_committed_after_the_cursor_was_taken_is_not_missed():
    """A transaction that started before a sync and commits after it is still delivered."""
    import psycopg

    units = tree()
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    team = TeamFactory(lead=lead)
    visit = VisitFactory(team=team, target=units["village_a"], status="in_progress")
    finding = FindingFactory(visit=visit)
    client = bearer(lead)
    cursor, _ = follow(client)
    dsn = database_url_for(connection.settings_dict["NAME"]).replace(
        "postgres://", "postgresql://", 1
    )
    with psycopg.connect(dsn) as slow:
        slow.execute("UPDATE audits_finding SET title = '慢事务' WHERE id = %s", (finding.pk,))
        cursor, pages = follow(client, cursor)  # taken while the update is uncommitted
        assert pages[-1]["changes"]["findings"] == []
        slow.commit()
    cursor, pages = follow(client, cursor)
    assert [f["title"] for f in pages[-1]["changes"]["findings"]] == ["慢事务"]


def test_reuse_that_becomes_visible_reaches_an_incremental_sync():
    """A unit official sees photo B of a published finding; B matches photo A of a secret
    finding. When that finding is published the official may see A, so B now shows
    `reused`: the incremental sync must bring B again, as a full sync would."""
    from datetime import date, timedelta

    from django.utils import timezone

    from audits.models import Photo
    from audits.services.findings import finding_publish

    units = tree()
    village = units["village_a"]
    official = UserFactory(unit=village, roles=[Role.UNIT_OFFICIAL])
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])

    def closed_visit():
        return VisitFactory(
            campaign=CampaignFactory(unit=units["city"]),
            team=TeamFactory(lead=lead),
            target=village,
            status="closed",
            closed_at=timezone.now(),
        )

    def photo(finding, seed, matches=()):
        return Photo.objects.create(
            finding=finding,
            visit=finding.visit,
            uploaded_by=lead,
            sha256=f"{seed:064x}",
            size=1,
            content_type="image/jpeg",
            original=f"originals/{seed}",
            status="ready",
            matches=list(matches),
        )

    secret = FindingFactory(visit=closed_visit(), status="confirmed")
    shown = FindingFactory(
        visit=closed_visit(),
        status="published",
        published_at=timezone.now(),
        rectify_by=date.today() + timedelta(days=30),
    )
    a = photo(secret, 1)
    b = photo(shown, 2, matches=[a.pk])
    client = bearer(official)
    cursor, pages = follow(client)
    state = apply({}, pages)
    assert state[("photos", str(b.pk))]["flags"] == []
    assert ("photos", str(a.pk)) not in state

    finding_publish(
        actor=planner, finding_id=secret.pk, rectify_by=date.today() + timedelta(days=30)
    )
    _cursor, pages = follow(client, cursor)
    state = apply(state, pages)
    assert state[("photos", str(b.pk))]["flags"] == ["reused"]
    assert state == full(client)
