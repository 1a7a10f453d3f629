"""Whose photos are evidence of what: who may add photos in each state, what a rectification
may cite, and who uploaded each photo."""

import uuid
from datetime import date, timedelta

import pytest
import yaml
from django.utils import timezone

from audits.choices import FindingStatus, Role, VisitStatus
from audits.models import Photo
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.photos.helpers import post_photo, world
from tests.photos.make_corpus import jpeg

pytestmark = pytest.mark.django_db


def _set(w, *, visit: str | None = None, finding: str | None = None) -> None:
    if visit is not None:
        w.visit.status = visit
        w.visit.closed_at = timezone.now() if visit == VisitStatus.CLOSED else None
        w.visit.save()
    if finding is not None:
        w.finding.status = finding
        if finding not in (FindingStatus.DRAFT, FindingStatus.SUBMITTED, FindingStatus.CONFIRMED):
            w.finding.published_at = w.finding.published_at or timezone.now()
            w.finding.rectify_by = date.today() + timedelta(days=30)
        w.finding.save()


def _people(w):
    official = UserFactory(roles=[Role.UNIT_OFFICIAL], unit=w.finding.responsible_unit)
    planner = UserFactory(roles=[Role.PLANNER], unit=w.visit.campaign.unit)
    return {
        "team": w.client,
        "official": bearer(official),
        "planner": bearer(planner),
    }, official


# (visit status, finding status) → who gets what, for a photo of the finding and, in the last
# column, a photo of the visit alone by the team. 400: may not see the finding (a draft).
WHEN = [
    ("in_progress", "draft", {"team": 201, "official": 400, "planner": 400}, 201),
    ("in_progress", "submitted", {"team": 201, "official": 400, "planner": 403}, 201),
    # Late uploads from phones that were offline when the lead submitted the visit.
    ("submitted", "submitted", {"team": 201, "official": 400, "planner": 403}, 201),
    # Reviewed: the evidence the planner judged is what stays.
    ("submitted", "confirmed", {"team": 409, "official": 400, "planner": 403}, 201),
    ("closed", "confirmed", {"team": 409, "official": 400, "planner": 403}, 409),
    # Published: only the unit's rectification evidence, until it is reported.
    ("closed", "published", {"team": 409, "official": 201, "planner": 403}, 409),
    ("closed", "rectification_submitted", {"team": 409, "official": 409, "planner": 403}, 409),
    ("closed", "returned", {"team": 409, "official": 201, "planner": 403}, 409),
    ("closed", "verified", {"team": 409, "official": 409, "planner": 403}, 409),
]


@pytest.mark.parametrize(("visit", "finding", "who", "visit_photo"), WHEN)
def test_who_may_add_photos_in_each_state(visit, finding, who, visit_photo):
    w = world()
    clients, _official = _people(w)
    _set(w, visit=visit, finding=finding)
    got = {
        name: post_photo(client, jpeg(40 + n), finding=w.finding).status_code
        for n, (name, client) in enumerate(clients.items())
    }
    got_visit = post_photo(w.client, jpeg(50), visit=w.visit).status_code
    assert (got, got_visit) == (who, visit_photo)


def _rectify(client, w, photos):
    return client.post(
        f"/api/v1/findings/{w.finding.pk}/rectification",
        {"report": "已整改", "photos": [str(p) for p in photos]},
        format="json",
    )


def test_a_rectification_cites_only_photos_its_official_uploaded_for_it():
    w = world()
    clients, official = _people(w)
    team_photo = post_photo(w.client, jpeg(1), finding=w.finding).json()["id"]
    _set(w, visit=VisitStatus.CLOSED, finding=FindingStatus.PUBLISHED)
    colleague = bearer(UserFactory(roles=[Role.UNIT_OFFICIAL], unit=w.finding.responsible_unit))
    theirs = post_photo(colleague, jpeg(2), finding=w.finding).json()["id"]
    mine = post_photo(clients["official"], jpeg(3), finding=w.finding)
    assert mine.status_code == 201, mine.content
    mine = mine.json()["id"]

    for refused in ([team_photo], [theirs], [mine, team_photo], [str(uuid.uuid4())]):
        answer = _rectify(clients["official"], w, refused)
        assert answer.status_code == 400, (refused, answer.content)
        assert list(answer.json()["errors"]) == ["photos"]
    w.finding.refresh_from_db()
    assert w.finding.status == FindingStatus.PUBLISHED

    first = _rectify(clients["official"], w, [mine])
    assert first.status_code == 200, first.content
    # Returned: the next report needs new proof; what the first cited is spent.
    returned = clients["planner"].post(
        f"/api/v1/findings/{w.finding.pk}/verify",
        {
            "accepted": False,
            "comment": "照片不清楚",
            "rectify_by": str(date.today() + timedelta(9)),
        },
        format="json",
    )
    assert returned.status_code == 200, returned.content
    assert _rectify(clients["official"], w, [mine]).status_code == 400
    fresh = post_photo(clients["official"], jpeg(4), finding=w.finding).json()["id"]
    second = _rectify(clients["official"], w, [fresh])
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "rectification_submitted"


def test_each_photo_names_its_uploader_to_those_who_may_know_them():
    """Inspectors are named to whoever may see the visit; to the inspected unit, which sees
    the published finding but not the visit, only the unit's own uploads are named."""
    w = world()
    clients, official = _people(w)
    team_photo = post_photo(w.client, jpeg(1), finding=w.finding).json()["id"]
    _set(w, visit=VisitStatus.CLOSED, finding=FindingStatus.PUBLISHED)
    unit_photo = post_photo(clients["official"], jpeg(2), finding=w.finding).json()["id"]

    def seen(client, photo_id):
        body = client.get(f"/api/v1/photos/{photo_id}").json()
        return body["uploaded_by"], body["purpose"]

    assert seen(w.client, team_photo) == (w.inspector.pk, "evidence")
    assert seen(clients["planner"], team_photo) == (w.inspector.pk, "evidence")
    assert seen(clients["official"], team_photo) == (None, "evidence")
    assert seen(clients["official"], unit_photo) == (official.pk, "rectification")
    assert seen(clients["planner"], unit_photo) == (official.pk, "rectification")
    synced = clients["official"].get("/api/v1/sync").json()["changes"]["photos"]
    assert {p["id"]: p["uploaded_by"] for p in synced} == {
        team_photo: None,
        unit_photo: official.pk,
    }
    assert Photo.objects.get(pk=team_photo).uploaded_by == w.inspector


def test_the_schema_describes_uploaded_by_and_purpose(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    props = schema["components"]["schemas"]["PhotoOut"]["properties"]
    assert props["uploaded_by"]["type"] == "integer"
    assert props["uploaded_by"]["nullable"] is True
    purpose = schema["components"]["schemas"][props["purpose"]["$ref"].rsplit("/", 1)[1]]
    assert set(purpose["enum"]) == {"evidence", "rectification"}
