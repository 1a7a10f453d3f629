"""`Idempotency-Key`: retries replay the first answer and never change anything twice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audits.choices import Role
from audits.models import Campaign, IdempotencyRecord
from audits.services.maintenance import idempotency_purge
from tests.conftest import bearer, database_url_for
from tests.factories import ChecklistFactory, UserFactory, tree


def campaign_body(units, checklist, **extra):
    body = {
        "title": "暗访",
        "mode": "unannounced",
        "unit": str(units["city"].pk),
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-31",
        "checklist": str(checklist.pk),
    }
    body.update(extra)
    return body


@pytest.fixture
def setting(db):
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    return units, planner, ChecklistFactory(owner_unit=units["city"])


def test_a_repeat_replays_the_first_answer_and_changes_nothing(setting):
    units, planner, checklist = setting
    client = bearer(planner)
    body = campaign_body(units, checklist)
    first = client.post("/api/v1/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert "Idempotent-Replayed" not in first
    assert Campaign.objects.count() == 1


def test_the_same_key_with_another_body_is_422(setting):
    units, planner, checklist = setting
    client = bearer(planner)
    client.post(
        "/api/v1/campaigns",
        campaign_body(units, checklist),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    other = client.post(
        "/api/v1/campaigns",
        campaign_body(units, checklist, title="别的"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Campaign.objects.count() == 1


def test_keys_belong_to_their_user(setting):
    units, planner, checklist = setting
    other_planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    body = campaign_body(units, checklist)
    assert (
        bearer(planner)
        .post("/api/v1/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
        .status_code
        == 201
    )
    second = bearer(other_planner).post(
        "/api/v1/campaigns", body, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Campaign.objects.count() == 2


def test_a_failed_first_request_is_not_remembered(setting):
    units, planner, checklist = setting
    client = bearer(planner)
    bad = client.post(
        "/api/v1/campaigns",
        campaign_body(units, checklist, ends_on="2026-01-01"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    # The client fixes nothing and retries: the same failure, computed again.
    assert (
        client.post(
            "/api/v1/campaigns",
            campaign_body(units, checklist, ends_on="2026-01-01"),
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-3",
        ).status_code
        == 400
    )


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_malformed_key_is_400(setting, key):
    units, planner, checklist = setting
    answer = bearer(planner).post(
        "/api/v1/campaigns",
        campaign_body(units, checklist),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_idempotency_key"
    assert Campaign.objects.count() == 0


def test_old_keys_are_purged_but_never_before_a_day(setting):
    units, planner, checklist = setting
    bearer(planner).post(
        "/api/v1/campaigns",
        campaign_body(units, checklist),
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=30))
    assert idempotency_purge(older_than=timedelta(hours=1)) == 1
    bearer(planner).post(
        "/api/v1/campaigns",
        campaign_body(units, checklist, title="新"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="new",
    )
    assert idempotency_purge(older_than=timedelta(hours=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_still_runs_is_409(settings):
    import psycopg

    settings.IDEMPOTENCY_WAIT_SECONDS = 1
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    checklist = ChecklistFactory(owner_unit=units["city"])
    client = bearer(planner)
    dsn = database_url_for(connection.settings_dict["NAME"]).replace(
        "postgres://", "postgresql://", 1
    )
    with psycopg.connect(dsn) as first:  # the first request, still inside its transaction
        first.execute(
            "INSERT INTO audits_idempotencyrecord (user_id, key, fingerprint, created_at,"
            " content_type) VALUES (%s, 'busy', 'x', now(), '')",
            [planner.pk],
        )
        answer = client.post(
            "/api/v1/campaigns",
            campaign_body(units, checklist),
            format="json",
            HTTP_IDEMPOTENCY_KEY="busy",
        )
        first.rollback()
    assert answer.status_code == 409
    assert answer.json()["code"] == "idempotency_in_progress"
    assert Campaign.objects.count() == 0


# --- The mixin on the test-only views of tests/faults/idempotency_urls.py ---

UNITS = "/api/test-idem/units"


@pytest.fixture
def caller(db):
    return UserFactory(roles=[Role.PLANNER])


def _units(code: str) -> int:
    from audits.models import Unit

    return Unit.objects.filter(code=code).count()


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_a_replay_is_byte_identical_with_its_location_and_changes_nothing(caller):
    client = bearer(caller)
    body = {"code": "I0001", "name": '幂等\u2028单位 "引号"'}
    first = client.post(UNITS, body, format="json", HTTP_IDEMPOTENCY_KEY="u-1")
    again = client.post(UNITS, body, format="json", HTTP_IDEMPOTENCY_KEY="u-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _units("I0001") == 1
    record = IdempotencyRecord.objects.get(user=caller, key="u-1")
    assert record.status_code == 201
    assert record.completed_at is not None


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_without_a_key_nothing_changes(caller):
    client = bearer(caller)
    first = client.post(UNITS, {"code": "I0002"}, format="json")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert client.post(UNITS, {"code": "I0003"}, format="json").status_code == 201
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_another_body_under_the_same_key_is_422_and_changes_nothing(caller):
    client = bearer(caller)
    assert (
        client.post(UNITS, {"code": "I0004"}, format="json", HTTP_IDEMPOTENCY_KEY="u-2").status_code
        == 201
    )
    other = client.post(UNITS, {"code": "I0005"}, format="json", HTTP_IDEMPOTENCY_KEY="u-2")
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert _units("I0005") == 0
    # The same path with another query string is another request too.
    query = client.post(
        UNITS + "?x=1", {"code": "I0004"}, format="json", HTTP_IDEMPOTENCY_KEY="u-2"
    )
    assert query.status_code == 422


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_the_same_key_from_another_user_is_another_key(caller):
    other = UserFactory(roles=[Role.PLANNER])
    assert (
        bearer(caller)
        .post(UNITS, {"code": "I0006"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
        .status_code
        == 201
    )
    theirs = bearer(other).post(
        UNITS, {"code": "I0007"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert _units("I0007") == 1
    assert IdempotencyRecord.objects.filter(key="same").count() == 2


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_a_first_request_failing_after_its_write_leaves_nothing_behind(caller):
    client = bearer(caller)
    failed = client.post(
        UNITS, {"code": "I0008", "fail": True}, format="json", HTTP_IDEMPOTENCY_KEY="u-3"
    )
    assert failed.status_code == 400
    assert _units("I0008") == 0
    assert not IdempotencyRecord.objects.filter(key="u-3").exists()
    # The same retry runs again (and fails again); a corrected one under the key runs too.
    assert (
        client.post(
            UNITS, {"code": "I0008", "fail": True}, format="json", HTTP_IDEMPOTENCY_KEY="u-3"
        ).status_code
        == 400
    )
    fixed = client.post(UNITS, {"code": "I0008"}, format="json", HTTP_IDEMPOTENCY_KEY="u-3")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert _units("I0008") == 1


@pytest.mark.urls("tests.faults.idempotency_urls")
@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_malformed_key_is_400_before_anything_runs(caller, key):
    answer = bearer(caller).post(UNITS, {"code": "I0009"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_idempotency_key"
    assert _units("I0009") == 0


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_a_key_of_255_characters_is_remembered(caller):
    client = bearer(caller)
    key = "k" * 255
    assert (
        client.post(UNITS, {"code": "I0010"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code
        == 201
    )
    again = client.post(UNITS, {"code": "I0010"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.urls("tests.faults.idempotency_urls")
def test_a_permission_that_reads_the_body_first_does_not_break_the_fingerprint(caller):
    """DRF parses JSON from `request.body` (cached), so the fingerprint can still read it."""
    client = bearer(caller)
    url = "/api/test-idem/checked-units"
    first = client.post(url, {"code": "P0001"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 201
    again = client.post(url, {"code": "P0001"}, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


def test_the_scheduled_purge_keeps_keys_for_the_configured_hours(db, settings):
    from workers.maintenance import purge_idempotency_records as task

    settings.IDEMPOTENCY_TTL_HOURS = 48
    user = UserFactory()
    now = timezone.now()
    for key, age in (("fresh", 1), ("almost-a-day", 23), ("stale", 49)):
        record = IdempotencyRecord.objects.create(user=user, key=key, fingerprint="f")
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - timedelta(hours=age))
    assert task() == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"fresh", "almost-a-day"}
    settings.IDEMPOTENCY_TTL_HOURS = 1  # misconfigured: keys still live a day
    assert task() == 0
