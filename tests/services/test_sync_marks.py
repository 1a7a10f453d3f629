"""Marks for the sync feed."""

import pytest

from audits.models import SyncRemoval
from audits.services.sync_marks import visit_left_view
from tests.factories import FindingFactory, UserFactory, VisitFactory

pytestmark = pytest.mark.django_db


def test_a_visit_left_view_marks_it_and_its_findings_for_every_user_of_a_one_shot_iterable():
    visit = VisitFactory()
    findings = [FindingFactory(visit=visit, created_by=visit.team.lead) for _ in range(2)]
    users = [UserFactory(), UserFactory()]
    visit_left_view(visit, (u.pk for u in users))  # a generator: it can be read only once
    marks = set(SyncRemoval.objects.values_list("user_id", "object_type", "object_id"))
    expected = {(u.pk, "visit", visit.pk) for u in users}
    expected |= {(u.pk, "finding", f.pk) for u in users for f in findings}
    assert marks == expected
