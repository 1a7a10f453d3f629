"""Bulletins through a real Celery worker: the compile with its progress, delivery by e-mail
with the PDF attached and in the inbox, the issued Word copy, and a failed compile retried."""

import email
import email.header
import hashlib
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from audits.models import Bulletin, BulletinRecipient, Notification, OutboxMessage
from audits.services import trail
from tests.bulletins.helpers import request, world
from tests.conftest import bearer
from tests.photos.helpers import Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailbox(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def bulletin_worker(transactional_db, settings, mailbox):
    worker = Worker(env={"EMAIL_URL": f"file://{mailbox}"})
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    yield worker
    worker.stop()


def watch(client, url: str, until, timeout: float = 120) -> list[dict]:
    """GET `url` until `until(body)`; every answer seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        seen.append(body)
        if until(body):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"not reached in {timeout} s: {seen[-1]}")


def subject(message: email.message.Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def messages(mailbox: Path) -> list[email.message.Message]:
    found = []
    for path in sorted(mailbox.iterdir()):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                found.append(email.message_from_string(chunk))
    return found


def test_compiled_by_a_worker_issued_delivered_and_acknowledged(bulletin_worker, mailbox):
    w = world()
    planner = bearer(w.planner_city)
    created = request(planner, w).json()
    url = f"/api/v1/bulletins/{created['id']}"

    seen = watch(planner, url, lambda b: b["status"] == "draft" and b["docx_url"])
    # While it compiled, the bulletin said how far it was, and only ever went forward.
    compiling = [b["progress"] for b in seen if b["status"] == "compiling"]
    assert compiling[0] == {"stage": "queued", "percent": 0}
    assert any(0 < p["percent"] < 100 for p in compiling), compiling
    percents = [p["percent"] for p in compiling]
    assert percents == sorted(percents)
    assert seen[-1]["progress"] == {"stage": "done", "percent": 100}
    # The planner is told it is ready (in the app, and by e-mail).
    ready = Notification.objects.get(recipient=w.planner_city, kind="bulletin.ready")
    assert ready.object_id == created["id"]

    trail.trail_seal()
    issued = planner.post(f"{url}/issue").json()
    assert issued["number"] == 1

    def delivered():
        rows = BulletinRecipient.objects.filter(bulletin_id=created["id"])
        notices = Notification.objects.filter(kind="bulletin.issued", object_id=created["id"])
        return (
            rows.count() == 3
            and not rows.filter(delivered_at=None).exists()
            and notices.count() == 3
            and not notices.filter(emailed_at=None).exists()
            and Bulletin.objects.get(pk=created["id"]).docx
        )

    wait_for(delivered, 120)
    assert not OutboxMessage.objects.filter(done_at=None).exists()
    mails = [m for m in messages(mailbox) if "请签收" in subject(m)]
    assert sorted(m["To"] for m in mails) == sorted(
        f"{u.username}@example.org" for u in (w.leader_city, w.leader_county, w.head_b)
    )
    for mail in mails:
        (attachment,) = [p for p in mail.walk() if p.get_content_type() == "application/pdf"]
        assert attachment.get_filename() == f"督查通报{issued['year']}年第1期.pdf"
        assert hashlib.sha256(attachment.get_payload(decode=True)).hexdigest() == issued["sha256"]

    # The leader finds it in the inbox and acknowledges it; the planner sees who did.
    leader = bearer(w.leader_county)
    inbox = leader.get("/api/v1/notifications?kind=bulletin.issued").json()["results"]
    assert [n["object_id"] for n in inbox] == [created["id"]]
    assert (
        leader.get("/api/v1/bulletins?addressed=true").json()["results"][0]["id"] == created["id"]
    )
    word = leader.get(f"{url}/docx")
    assert word.status_code == 200
    assert leader.post(f"{url}/acknowledge").status_code == 200
    followed = planner.get(url).json()["recipients"]
    assert {r["user"] for r in followed if r["acknowledged_at"]} == {w.leader_county.pk}
    assert all(r["delivered_at"] for r in followed)


def test_a_failed_compile_is_retried_by_the_worker(bulletin_worker):
    w = world()
    planner = bearer(w.planner_city)
    lost = w.photos[0].preview
    saved = default_storage.open(lost).read()
    default_storage.delete(lost)
    created = request(planner, w).json()
    url = f"/api/v1/bulletins/{created['id']}"
    failed = watch(planner, url, lambda b: b["status"] != "compiling")[-1]
    assert failed["status"] == "failed"
    assert lost in failed["error"]
    default_storage.save(lost, ContentFile(saved))
    assert planner.post(f"{url}/compile").status_code == 202
    done = watch(planner, url, lambda b: b["status"] != "compiling")[-1]
    assert done["status"] == "draft"
    assert "error" not in done
