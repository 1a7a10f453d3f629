"""`Idempotency-Key`: retries replay the first answer and never change anything twice."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone

from audits.api.replay import purge_idempotency_records
from audits.choices import Role
from audits.models import Campaign, IdempotencyRecord
from tests.conftest import ROOT, bearer, database_url_for
from tests.factories import ChecklistFactory, UserFactory, tree


def campaign_body(units, checklist, **extra):
    body = {"title": "暗访", "mode": "unannounced", "unit": str(units["city"].pk),
            "starts_on": "2026-12-01", "ends_on": "2026-12-31", "checklist": str(checklist.pk)}
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
    client.post("/api/v1/campaigns", campaign_body(units, checklist), format="json",
                HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/v1/campaigns", campaign_body(units, checklist, title="别的"),
                        format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Campaign.objects.count() == 1


def test_keys_belong_to_their_user(setting):
    units, planner, checklist = setting
    other_planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    body = campaign_body(units, checklist)
    assert bearer(planner).post("/api/v1/campaigns", body, format="json",
                                HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    second = bearer(other_planner).post("/api/v1/campaigns", body, format="json",
                                        HTTP_IDEMPOTENCY_KEY="shared")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Campaign.objects.count() == 2


def test_a_failed_first_request_is_not_remembered(setting):
    units, planner, checklist = setting
    client = bearer(planner)
    bad = client.post("/api/v1/campaigns", campaign_body(units, checklist, ends_on="2026-01-01"),
                      format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    # The client fixes nothing and retries: the same failure, computed again.
    assert client.post("/api/v1/campaigns", campaign_body(units, checklist, ends_on="2026-01-01"),
                       format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 400


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_malformed_key_is_400(setting, key):
    units, planner, checklist = setting
    answer = bearer(planner).post("/api/v1/campaigns", campaign_body(units, checklist),
                                  format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_idempotency_key"
    assert Campaign.objects.count() == 0


def test_old_keys_are_purged_but_never_before_a_day(setting):
    units, planner, checklist = setting
    bearer(planner).post("/api/v1/campaigns", campaign_body(units, checklist), format="json",
                         HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=30))
    assert purge_idempotency_records(older_than=timedelta(hours=1)) == 1
    bearer(planner).post("/api/v1/campaigns", campaign_body(units, checklist, title="新"),
                         format="json", HTTP_IDEMPOTENCY_KEY="new")
    assert purge_idempotency_records(older_than=timedelta(hours=1)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db):
    """Two real server processes on the test database."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url_for(connection.settings_dict["NAME"]),
               ALLOWED_HOSTS="127.0.0.1", THROTTLE_USER="100000/min",
               IDEMPOTENCY_WAIT_SECONDS="20")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "server.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "gunicorn exited"
        assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def test_the_same_request_at_the_same_instant_on_two_processes(gunicorn):
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    checklist = ChecklistFactory(owner_unit=units["city"])
    token = bearer(planner)._credentials["HTTP_AUTHORIZATION"]
    rounds = 15
    for n in range(rounds):
        body = campaign_body(units, checklist, title=f"并发{n}", id=str(uuid.uuid4()))
        barrier = threading.Barrier(2)
        answers = [None, None]

        def send(slot, body=body, barrier=barrier, answers=answers, n=n):
            session = requests.Session()
            barrier.wait()
            answers[slot] = session.post(f"{gunicorn}/api/v1/campaigns", json=body,
                                         headers={"Authorization": token,
                                                  "Idempotency-Key": f"race-{n}"}, timeout=30)

        threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        first, second = answers
        assert first.status_code == second.status_code == 201, (first.text, second.text)
        assert first.content == second.content
        replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
        assert sorted(replayed, key=str) == sorted([None, "true"], key=str)
    assert Campaign.objects.count() == rounds




@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_still_runs_is_409(settings):
    import psycopg

    settings.IDEMPOTENCY_WAIT_SECONDS = 1
    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    checklist = ChecklistFactory(owner_unit=units["city"])
    client = bearer(planner)
    dsn = database_url_for(connection.settings_dict["NAME"]).replace("postgres://",
                                                                     "postgresql://", 1)
    with psycopg.connect(dsn) as first:  # the first request, still inside its transaction
        first.execute(
            "INSERT INTO audits_idempotencyrecord (user_id, key, fingerprint, created_at,"
            " content_type) VALUES (%s, 'busy', 'x', now(), '')", [planner.pk])
        answer = client.post("/api/v1/campaigns", campaign_body(units, checklist),
                             format="json", HTTP_IDEMPOTENCY_KEY="busy")
        first.rollback()
    assert answer.status_code == 409
    assert answer.json()["code"] == "idempotency_in_progress"
    assert Campaign.objects.count() == 0
