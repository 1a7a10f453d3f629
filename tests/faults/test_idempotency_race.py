"""`Idempotency-Key` across two real server processes (gunicorn -w 2) on the test database.

"Retries never duplicate anything, also when the same request arrives twice at the same
instant on two server processes (one row, both answers equal)." The views are the test-only
ones of tests/faults/idempotency_urls.py; each answer names its process in `X-Worker-Pid`.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
import requests
from django.db import connection

from audits.choices import Role
from audits.models import IdempotencyRecord, Unit
from tests.conftest import ROOT, bearer, database_url_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
UNITS = "/api/test-idem/units"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dsn() -> str:
    return database_url_for(connection.settings_dict["NAME"])


@contextlib.contextmanager
def serve(**env: str):
    """gunicorn with two sync worker processes, serving the test views; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "server.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(
            os.environ,
            DATABASE_URL=_dsn(),
            ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SETTINGS_MODULE="tests.faults.idempotency_settings",
            THROTTLE_USER="100000/min",
            **env,
        ),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _token(user) -> str:
    # The device session is committed (transactional test): the server processes see it.
    return bearer(user)._credentials["HTTP_AUTHORIZATION"]


def _post(base: str, token: str, key: str, body: dict) -> requests.Response:
    with requests.Session() as session:
        return session.post(
            base + UNITS,
            json=body,
            timeout=60,
            headers={"Authorization": token, "Idempotency-Key": key},
        )


def twice_at_once(post) -> tuple[requests.Response, requests.Response]:
    """`post()` from two threads released together: the same request at the same instant."""
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(slot: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            answers[slot] = post(session)

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers[0], answers[1]


def assert_one_answer_twice(first: requests.Response, second: requests.Response) -> None:
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.content == second.content
    replayed = sorted(str(a.headers.get("Idempotent-Replayed")) for a in (first, second))
    assert replayed == ["None", "true"]


class BlockedClaims:
    """Watches pg_locks for a duplicate waiting on another request's uncommitted claim."""

    def __init__(self) -> None:
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                    " WHERE l.locktype = 'transactionid' AND NOT l.granted"
                    " AND a.query ILIKE '%audits_idempotencyrecord%'"
                ).fetchone()
                self.seen += bool(row[0])
                time.sleep(0.01)

    def __enter__(self) -> "BlockedClaims":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def test_the_same_request_at_the_same_instant_on_two_processes_changes_once():
    user = UserFactory(roles=[Role.PLANNER])
    token = _token(user)
    rounds = 20
    with serve(IDEMPOTENCY_WAIT_SECONDS="20") as base, BlockedClaims() as blocked:
        for n in range(rounds):
            # The view takes a moment, so that the duplicate arrives while the first runs.
            body = {"code": f"R{n:04d}", "name": f"并发{n}", "sleep": 0.3}
            first, second = twice_at_once(
                lambda session, body=body, n=n: session.post(
                    base + UNITS,
                    json=body,
                    timeout=60,
                    headers={"Authorization": token, "Idempotency-Key": f"race-{n}"},
                )
            )
            assert_one_answer_twice(first, second)
            assert first.headers["Location"] == second.headers["Location"]
            # Both processes took part: the duplicate really ran beside the first.
            assert first.headers["X-Worker-Pid"] != second.headers["X-Worker-Pid"]
            assert Unit.objects.filter(code=f"R{n:04d}").count() == 1
    assert blocked.seen, "no duplicate was ever seen waiting on the first one's claim"
    records = IdempotencyRecord.objects.filter(user=user)
    assert records.count() == rounds
    assert not records.filter(completed_at__isnull=True).exists()


def test_a_repeat_while_the_first_still_runs_is_409_and_a_later_one_replays():
    user = UserFactory(roles=[Role.PLANNER])
    token = _token(user)
    body = {"code": "S0001", "sleep": 3}
    with serve(IDEMPOTENCY_WAIT_SECONDS="1") as base:
        answers: dict = {}
        first = threading.Thread(
            target=lambda: answers.setdefault("first", _post(base, token, "slow", body))
        )
        first.start()
        # Sent once the first has claimed the key and written, and sleeps in its view.
        deadline = time.monotonic() + 30
        while not _written_and_waiting():
            assert time.monotonic() < deadline, "the first request never wrote"
            time.sleep(0.02)
        started = time.monotonic()
        busy = _post(base, token, "slow", body)
        waited = time.monotonic() - started
        first.join()
        later = _post(base, token, "slow", body)
    assert busy.status_code == 409, busy.text
    assert busy.headers["Content-Type"] == "application/problem+json"
    assert busy.json()["code"] == "idempotency_in_progress"
    # It waited IDEMPOTENCY_WAIT_SECONDS for the first, then gave up: 409, not a replay.
    assert waited > 0.9
    assert answers["first"].status_code == 201
    assert later.status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == answers["first"].content
    assert Unit.objects.filter(code="S0001").count() == 1
    assert IdempotencyRecord.objects.filter(user=user, key="slow").count() == 1


def _written_and_waiting() -> bool:
    """A server process is inside a request transaction that has inserted its unit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle in transaction' AND query LIKE 'INSERT INTO \"audits_unit\"%%'"
        )
        return cursor.fetchone()[0] > 0


def test_a_duplicate_of_a_failing_request_runs_as_the_first_one():
    """The first rolls back (it fails after its write): the waiting duplicate runs itself."""
    user = UserFactory(roles=[Role.PLANNER])
    token = _token(user)
    with serve(IDEMPOTENCY_WAIT_SECONDS="20") as base:
        answers: dict = {}
        first = threading.Thread(
            target=lambda: answers.setdefault(
                "first", _post(base, token, "flaky", {"code": "F0001", "sleep": 1, "fail": True})
            )
        )
        first.start()
        # Sent once the first holds its claim and has written, uncommitted (it sleeps then).
        deadline = time.monotonic() + 30
        while not _written_and_waiting():
            assert time.monotonic() < deadline, "the first request never wrote"
            time.sleep(0.02)
        # Another body would be a 422 once the first is remembered; it is not remembered.
        second = _post(base, token, "flaky", {"code": "F0001"})
        first.join()
    assert answers["first"].status_code == 400
    assert second.status_code == 201, second.text
    assert "Idempotent-Replayed" not in second.headers
    assert Unit.objects.filter(code="F0001").count() == 1


def test_outside_the_request_transaction_a_duplicate_gets_409_at_once():
    """Views with their own transactions (photo uploads) commit the claim at once."""
    user = UserFactory(roles=[Role.PLANNER])
    token = _token(user)
    body = {"code": "N0002", "sleep": 5}
    url = "/api/test-idem/non-atomic-units"
    with serve(IDEMPOTENCY_WAIT_SECONDS="20") as base:

        def send() -> requests.Response:
            with requests.Session() as session:
                return session.post(
                    base + url,
                    json=body,
                    timeout=60,
                    headers={"Authorization": token, "Idempotency-Key": "na"},
                )

        answers: dict = {}
        first = threading.Thread(target=lambda: answers.setdefault("first", send()))
        first.start()
        # The claim is committed at once: the duplicate is sent only once it exists.
        deadline = time.monotonic() + 30
        while not IdempotencyRecord.objects.filter(key="na").exists():
            assert time.monotonic() < deadline, "the first request never claimed its key"
            time.sleep(0.02)
        started = time.monotonic()
        busy = send()
        waited = time.monotonic() - started
        first.join()
        later = send()
    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_in_progress"
    assert waited < 10  # no lock to wait on: not the 20 s IDEMPOTENCY_WAIT_SECONDS
    assert answers["first"].status_code == 201
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == answers["first"].content
    assert Unit.objects.filter(code="N0002").count() == 1


def test_the_same_campaign_at_the_same_instant_on_two_processes():
    """The same race on a real endpoint of the API (POST /api/v1/campaigns)."""
    from audits.models import Campaign
    from tests.api.test_idempotency import campaign_body
    from tests.factories import ChecklistFactory, tree

    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    checklist = ChecklistFactory(owner_unit=units["city"])
    token = _token(planner)
    rounds = 15
    with serve(IDEMPOTENCY_WAIT_SECONDS="20") as base:
        for n in range(rounds):
            body = campaign_body(units, checklist, title=f"并发{n}", id=str(uuid.uuid4()))
            first, second = twice_at_once(
                lambda session, body=body, n=n: session.post(
                    f"{base}/api/v1/campaigns",
                    json=body,
                    timeout=60,
                    headers={"Authorization": token, "Idempotency-Key": f"race-{n}"},
                )
            )
            assert_one_answer_twice(first, second)
            assert first.headers["ETag"] == second.headers["ETag"]
    assert Campaign.objects.count() == rounds


def test_two_photos_with_one_key_at_the_same_instant_store_one(settings):
    """Two different photos (same length) sent at once with the same key to two processes:
    one is stored, the other is refused as another request (422), never replayed as the
    first one's answer."""
    import hashlib

    from audits.models import Photo
    from tests.photos.helpers import world
    from tests.photos.make_corpus import jpeg

    w = world()
    token = _token(w.inspector)
    a, b = jpeg(1), jpeg(2)
    size = max(len(a), len(b))
    bodies = [data + b"\0" * (size - len(data)) for data in (a, b)]
    rounds = 5
    with serve(
        IDEMPOTENCY_WAIT_SECONDS="20",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CELERY_TASK_DEFAULT_QUEUE=f"unused-{uuid.uuid4().hex[:8]}",
    ) as base:
        for n in range(rounds):
            turn = iter(bodies)

            def send(session, n=n, turn=turn):
                data = next(turn)
                return session.post(
                    f"{base}/api/v1/photos",
                    data={
                        "id": str(uuid.uuid4()),
                        "finding": str(w.finding.pk),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    },
                    files={"file": ("a.jpg", data, "image/jpeg")},
                    timeout=60,
                    headers={"Authorization": token, "Idempotency-Key": f"photo-{n}"},
                )

            first, second = twice_at_once(send)
            answers = sorted((first, second), key=lambda r: r.status_code)
            assert [r.status_code for r in answers] == [201, 422], (first.text, second.text)
            assert answers[1].json()["code"] == "idempotency_key_reused"
            stored = Photo.objects.get(pk=answers[0].json()["id"])
            assert stored.sha256 == answers[0].json()["sha256"]
    assert Photo.objects.count() == rounds
