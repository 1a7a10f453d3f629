"""The admin changes teams through the team verbs: audited, and the members' apps told."""

import pytest

from audits.choices import Role
from audits.models import AuditEvent, SyncReset, Team
from tests.conftest import bearer
from tests.factories import FindingFactory, TeamFactory, UserFactory, VisitFactory, tree

pytestmark = pytest.mark.django_db


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def world(client):
    units = tree()
    admin = UserFactory(is_staff=True, is_superuser=True, unit=units["city"])
    client.force_login(admin)
    lead = UserFactory(roles=[Role.TEAM_LEAD], unit=units["city"])
    stays, leaves, joins = (UserFactory(roles=[Role.INSPECTOR], unit=units["city"]) for _ in "abc")
    team = TeamFactory(lead=lead, members=[stays, leaves])
    visit = VisitFactory(team=team, target=units["village_a"], status="in_progress")
    finding = FindingFactory(visit=visit, created_by=lead)
    return type("World", (), locals())


def test_changing_members_in_the_admin_tells_leavers_and_joiners_apps(client, world):
    w = world
    synced = {}
    for user in (w.leaves, w.joins):
        synced[user.pk] = (bearer(user), bearer(user).get("/api/v1/sync").json()["cursor"])
    start = _last_seq()
    answer = client.post(
        f"/admin/audits/team/{w.team.pk}/change/",
        {
            "name": "改组后",
            "lead": w.lead.pk,
            "members": [w.stays.pk, w.joins.pk],
            "owner_unit": w.units["city"].pk,
        },
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    team = Team.objects.get(pk=w.team.pk)
    assert (team.name, team.version) == ("改组后", 2)
    assert set(team.members.values_list("pk", flat=True)) == {w.lead.pk, w.stays.pk, w.joins.pk}
    event = AuditEvent.objects.get(seq__gt=start, action="team.update", object_type="team")
    assert event.actor_id == w.admin.pk

    client_leaves, cursor = synced[w.leaves.pk]
    after = client_leaves.get(f"/api/v1/sync?cursor={cursor}").json()
    assert {(r["type"], r["id"]) for r in after["removed"]} == {
        ("visit", str(w.visit.pk)),
        ("finding", str(w.finding.pk)),
    }
    client_joins, cursor = synced[w.joins.pk]
    after = client_joins.get(f"/api/v1/sync?cursor={cursor}").json()
    assert after["reset"] is True
    assert [v["id"] for v in after["changes"]["visits"]] == [str(w.visit.pk)]
    assert not SyncReset.objects.filter(user=w.stays).exists()


def test_a_team_formed_in_the_admin_is_the_verbs_team(client, world):
    w = world
    start = _last_seq()
    answer = client.post(
        "/admin/audits/team/add/",
        {
            "name": "新组",
            "lead": w.lead.pk,
            "members": [w.joins.pk],
            "owner_unit": w.units["county_a"].pk,
        },
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    team = Team.objects.get(name="新组")
    assert team.owner_unit == w.units["county_a"]
    assert team.created_by == w.admin
    assert set(team.members.values_list("pk", flat=True)) == {w.lead.pk, w.joins.pk}
    assert set(SyncReset.objects.values_list("user_id", flat=True)) >= {w.lead.pk, w.joins.pk}
    event = AuditEvent.objects.get(seq__gt=start, action="team.create", object_id=str(team.pk))
    assert event.actor_id == w.admin.pk


def test_the_admin_refuses_a_lead_without_the_role(client, world):
    w = world
    answer = client.post(
        f"/admin/audits/team/{w.team.pk}/change/",
        {
            "name": "改组后",
            "lead": w.stays.pk,  # an inspector, not a team lead
            "members": [w.stays.pk],
            "owner_unit": w.units["city"].pk,
        },
    )
    assert answer.status_code == 200  # the form again, with its error
    assert Team.objects.get(pk=w.team.pk).name != "改组后"
