"""Faults: a worker killed mid-photo, and Redis stopped while photos are uploaded.

The workers killed here run tests/faults/slow_photos.py: the project's tasks, with the
analysis of a photo made slow (after its attempt is counted), so that the test can kill one
in the middle of a photo.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from audits import outbox
from audits.models import OutboxMessage, Photo
from audits.services.outbox import outbox_sweep
from tests.photos.helpers import Worker, free_port, post_photo, wait_for, world
from tests.photos.make_corpus import jpeg

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SLOW = "tests.faults.slow_photos"


def _attempts(photo_id: str) -> int:
    return Photo.objects.filter(pk=photo_id).values_list("attempts", flat=True).get()


def test_a_pool_process_killed_mid_photo_loses_nothing(settings):
    """acks_late + reject_on_worker_lost: the message goes back, a new process does it."""
    worker = Worker(pool="prefork", app=SLOW, env={"SLOW_PHOTO_SECONDS": "2"})
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    try:
        w = world()
        photo_id = post_photo(w.client, jpeg(41), finding=w.finding).json()["id"]
        wait_for(lambda: _attempts(photo_id) == 1, timeout=30)
        children = worker.children()
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)
        photo = wait_for(
            lambda: Photo.objects.filter(pk=photo_id, status="ready").first(), timeout=60
        )
        assert photo.attempts == 2  # the killed attempt counted
        assert worker.children() != children  # a new pool process did it
        assert OutboxMessage.objects.get(kwargs={"photo_id": photo_id}).done_at is not None
    finally:
        worker.stop()


def test_a_whole_worker_killed_mid_photo_is_swept_to_the_next_one(settings):
    """The message is stuck unacknowledged with the dead worker; the sweeper re-sends it."""
    first = Worker(app=SLOW, env={"SLOW_PHOTO_SECONDS": "30"})
    settings.CELERY_TASK_DEFAULT_QUEUE = first.queue
    w = world()
    photo_id = post_photo(w.client, jpeg(42), finding=w.finding).json()["id"]
    try:
        wait_for(lambda: _attempts(photo_id) == 1, timeout=30)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    finally:
        first.stop()
    second = Worker(queue=first.queue)
    try:
        assert Photo.objects.get(pk=photo_id).status == "pending"
        assert outbox_sweep(stale_seconds=0) == 1  # what beat runs every 30 s
        photo = wait_for(
            lambda: Photo.objects.filter(pk=photo_id, status="ready").first(), timeout=60
        )
        assert photo.attempts == 2
    finally:
        second.stop()


@pytest.fixture
def private_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        wait_for(lambda: _pings(client), timeout=10)
        return proc

    state = {"proc": start()}

    def stop() -> None:
        state["proc"].terminate()
        state["proc"].wait(10)

    def restart() -> None:
        state["proc"] = start()

    yield type(
        "Redis",
        (),
        {
            "url": f"redis://127.0.0.1:{port}/0",
            "stop": staticmethod(stop),
            "start": staticmethod(restart),
        },
    )
    if state["proc"].poll() is None:
        stop()


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def test_uploads_are_accepted_while_redis_is_down_and_processed_after(settings, private_redis):
    worker = Worker(env={"REDIS_URL": private_redis.url})
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    settings.CELERY_BROKER_URL = private_redis.url
    try:
        w = world()
        client = w.client
        before = post_photo(client, jpeg(43), finding=w.finding).json()["id"]
        wait_for(lambda: Photo.objects.filter(pk=before, status="ready").exists(), timeout=60)

        private_redis.stop()
        timings, ids = [], []
        for seed in (44, 45, 46):
            started = time.monotonic()
            response = post_photo(client, jpeg(seed), finding=w.finding)
            timings.append(time.monotonic() - started)
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
        sys.stderr.write(f"upload times with Redis down: {[round(t, 3) for t in timings]} s\n")
        # Accepted at once (a refused connection, no retry, no sleep): typically ~0.05 s.
        # The bounds are generous so that a loaded CI machine does not make this flaky.
        assert min(timings) < 2
        assert max(timings) < 5
        assert OutboxMessage.objects.filter(kwargs__photo_id__in=ids, relayed_at=None).count() == 3
        assert outbox_sweep(fresh_seconds=0) == 0  # still down: the sweeper waits too

        private_redis.start()
        assert outbox_sweep(fresh_seconds=0) == 3
        wait_for(lambda: Photo.objects.filter(pk__in=ids, status="ready").count() == 3, timeout=90)
        assert not OutboxMessage.objects.filter(done_at=None).exists()
    finally:
        worker.stop()


def test_a_relay_after_a_redis_restart_goes_out_at_once_on_a_new_connection(
    settings, private_redis
):
    """The relay keeps its broker connection between messages; after a restart the next
    message still goes out at once, not left for the sweeper."""
    settings.CELERY_BROKER_URL = private_redis.url
    settings.CELERY_TASK_DEFAULT_QUEUE = "outbox-restart-test"
    import redis

    queue = redis.Redis.from_url(private_redis.url)

    def message() -> int:
        return outbox.OutboxMessage.objects.create(task="workers.outbox.sweep", kwargs={}).pk

    assert outbox.relay([message()]) == 1
    kept = outbox._link.connection
    assert kept is not None
    assert outbox.relay([message()]) == 1
    assert outbox._link.connection is kept  # no new connection per message
    private_redis.stop()
    private_redis.start()
    assert outbox.relay([message()]) == 1  # no message left behind by the restart
    assert queue.llen("outbox-restart-test") == 1  # the private Redis is empty after restart
    assert OutboxMessage.objects.filter(relayed_at=None).count() == 0
