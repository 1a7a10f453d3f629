"""Property: any interleaving of changes and incremental syncs converges on a full sync."""

import uuid

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TransactionTestCase

from audits.choices import Role
from audits.models import Finding, Visit
from audits.services import findings as finding_services
from audits.services import visits as visit_services
from tests.api.test_sync import apply, follow, full
from tests.conftest import bearer
from tests.factories import (
    CampaignFactory,
    ChecklistItemFactory,
    TeamFactory,
    UserFactory,
    VisitFactory,
    tree,
)

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 2)),
        st.tuples(st.just("edit"), st.integers(0, 20)),
        st.tuples(st.just("reassign"), st.integers(0, 2)),
        st.tuples(st.just("cancel"), st.integers(0, 2)),
        st.tuples(st.just("sync"), st.integers(1, 7)),
    ),
    min_size=1,
    max_size=25,
)


class SyncConverges(TransactionTestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=OPS)
    def test_synced_state_equals_a_full_sync(self, ops):
        units = tree()
        planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
        lead_a = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
        lead_b = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
        team_a, team_b = TeamFactory(lead=lead_a), TeamFactory(lead=lead_b)
        campaign = CampaignFactory(unit=units["city"])
        item = ChecklistItemFactory(checklist=campaign.checklist)
        targets = [units["village_a"], units["village_b"], units["town_a"]]
        visits = [
            VisitFactory(campaign=campaign, team=team_a, target=t, status="in_progress")
            for t in targets
        ]
        clients = {lead_a.pk: bearer(lead_a), lead_b.pk: bearer(lead_b)}
        states = {pk: {} for pk in clients}
        cursors = dict.fromkeys(clients)

        for op, arg in ops:
            if op == "create":
                visit = Visit.objects.get(pk=visits[arg].pk)
                if visit.status == "in_progress":
                    lead = visit.team.lead
                    finding_services.finding_create(
                        actor=lead,
                        finding_id=uuid.uuid4(),
                        visit=visit,
                        checklist_item=item,
                        severity="minor",
                        title=f"问题{arg}",
                        observed_at=timezone.now(),
                    )
            elif op == "edit":
                found = list(Finding.objects.order_by("pk"))
                if found:
                    Finding.objects.filter(pk=found[arg % len(found)].pk).update(title=f"改{arg}")
            elif op == "reassign":
                visit = Visit.objects.get(pk=visits[arg].pk)
                if visit.status in ("planned", "in_progress"):
                    Visit.objects.filter(pk=visit.pk).update(status="planned")
                    visit.refresh_from_db()
                    other = team_b if visit.team_id == team_a.pk else team_a
                    visit_services.visit_update(
                        actor=planner, visit_id=visit.pk, if_match=f'"{visit.version}"', team=other
                    )
                    Visit.objects.filter(pk=visit.pk).update(status="in_progress")
            elif op == "cancel":
                visit = Visit.objects.get(pk=visits[arg].pk)
                if visit.status in ("planned", "in_progress"):
                    visit_services.visit_cancel(actor=planner, visit_id=visit.pk)
            else:
                for pk, client in clients.items():
                    cursors[pk], pages = follow(client, cursors[pk], limit=arg)
                    states[pk] = apply(states[pk], pages)

        for pk, client in clients.items():
            cursors[pk], pages = follow(client, cursors[pk], limit=5)
            assert apply(states[pk], pages) == full(client)
