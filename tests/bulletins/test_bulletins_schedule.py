"""The scheduler's bulletin jobs, each run twice: drafts made once, reminders once a round."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audits import clock
from audits.models import Bulletin, Notification
from audits.services import bulletins, trail
from tests.bulletins.helpers import compiled, days_ago, request, world
from tests.conftest import bearer
from workers.bulletins import generate_drafts, remind_unacknowledged

pytestmark = pytest.mark.django_db


def test_the_campaigns_and_months_drafts_are_made_once_however_often_the_job_runs():
    w = world(photos=False)
    assert generate_drafts() == 4
    assert generate_drafts() == 0
    made = {b.auto_key: b for b in Bulletin.objects.exclude(auto_key=None)}
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    units = w.units
    assert set(made) == {
        f"campaign:{w.campaign.pk}",
        f"monthly:{units['city'].code}:{month}",
        f"monthly:{units['county_a'].code}:{month}",
        f"monthly:{units['county_b'].code}:{month}",
    }
    campaign = made[f"campaign:{w.campaign.pk}"]
    assert (campaign.period_start, campaign.period_end) == (
        w.campaign.starts_on,
        w.campaign.ends_on,
    )
    assert campaign.title == f"关于“{w.campaign.title}”督查情况的通报"
    # Each county's draft is its own organisation department's, compiled for its planner.
    county = made[f"monthly:{units['county_a'].code}:{month}"]
    assert (county.issuer, county.requested_by) == (units["county_a"], w.planner_county)
    assert all(b.status == "compiling" for b in made.values())
    # Compiled, the planners of the issuing unit are told it is ready, once.
    compiled(campaign.pk)
    told = Notification.objects.filter(kind="bulletin.ready", object_id=str(campaign.pk))
    assert [n.recipient for n in told] == [w.planner_city]
    assert campaign.__class__.objects.get(pk=campaign.pk).content["overview"]["visits_done"] == 2
    # Later in the month, nothing new; next month, the next month's drafts.
    with clock.at(timezone.now() + timedelta(days=40)):
        assert generate_drafts() == 3  # the campaign ended over a month ago by then


def test_reminders_go_once_a_round_to_those_who_have_not_acknowledged():
    w = world(photos=False)
    planner = bearer(w.planner_city)
    created = request(planner, w).json()
    compiled(created["id"])
    trail.trail_seal()
    planner.post(f"/api/v1/bulletins/{created['id']}/issue")
    with clock.at(timezone.now() - timedelta(days=4)):
        assert bulletins.bulletin_deliver(bulletin_id=created["id"]) == 3
    bearer(w.leader_county).post(f"/api/v1/bulletins/{created['id']}/acknowledge")

    def reminded():
        return sorted(
            (n.recipient.username, n.dedupe_key.rsplit(":", 1)[1])
            for n in Notification.objects.filter(kind="bulletin.reminder")
        )

    assert remind_unacknowledged() == 2
    assert remind_unacknowledged() == 0
    assert reminded() == [("head_b", "1"), ("leader_city", "1")]
    with clock.at(timezone.now() + timedelta(days=3)):  # 7 days: the second round
        assert remind_unacknowledged() == 2
        assert remind_unacknowledged() == 0
    with clock.at(timezone.now() + timedelta(days=30)):  # at most three rounds
        assert remind_unacknowledged() == 2
        assert remind_unacknowledged() == 0
    assert [key for user, key in reminded() if user == "leader_city"] == ["1", "2", "3"]
    assert "leader_county" not in {user for user, _ in reminded()}
    text = Notification.objects.filter(kind="bulletin.reminder").first().text
    assert text.startswith("提醒：督查通报")
    assert "尚未签收" in text
    assert days_ago(0).year == Bulletin.objects.get(pk=created["id"]).year
