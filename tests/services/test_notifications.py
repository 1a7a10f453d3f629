"""Notices in the app and their e-mail copies, sent by a real worker after commit."""

import uuid
from datetime import datetime

import pytest
from django.db import transaction

from audits import clock
from audits.choices import Role
from audits.models import Notification, OutboxMessage
from audits.services.notifications import notify
from tests.conftest import bearer
from tests.factories import UserFactory
from tests.photos.helpers import Worker, wait_for


@pytest.mark.django_db
def test_a_dedupe_key_gives_each_person_one_notice_however_often_it_is_sent():
    people = [UserFactory(), UserFactory(email="b@example.org")]
    first = notify(recipients=people, kind="test.due", text="到期", dedupe_key="due:1")
    again = notify(recipients=people, kind="test.due", text="到期", dedupe_key="due:1")
    assert len(first) == 2
    assert again == []
    assert Notification.objects.filter(dedupe_key="due:1").count() == 2
    # Only the person with an address gets mail work, and only the first time.
    assert OutboxMessage.objects.filter(task="workers.mail.send_notifications").count() == 1
    # Without a key, every call is a new notice; inactive people get none.
    people[0].is_active = False
    people[0].save()
    assert len(notify(recipients=people, kind="test.info", text="一")) == 1
    assert len(notify(recipients=people, kind="test.info", text="二")) == 1


@pytest.mark.django_db
def test_notices_are_listed_to_their_recipient_only_and_marked_read(api):
    me, other = UserFactory(roles=[Role.INSPECTOR]), UserFactory(roles=[Role.INSPECTOR])
    with clock.at(datetime(2026, 3, 1, 9)):
        mine = notify(recipients=[me], kind="test.info", text="给我的")[0]
    theirs = notify(recipients=[other], kind="test.info", text="给别人的")[0]
    client = bearer(me)
    listed = client.get("/api/v1/notifications").json()["results"]
    assert [n["id"] for n in listed] == [str(mine.pk)]
    assert listed[0]["read_at"] is None
    assert client.get("/api/v1/notifications?unread=true").json()["results"]
    answer = client.post(f"/api/v1/notifications/{mine.pk}/read")
    assert answer.status_code == 200
    assert answer.json()["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=true").json()["results"] == []
    # Someone else's notice is a 404, as if it did not exist, and is left unread.
    refused = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    missing = client.post(f"/api/v1/notifications/{uuid.uuid4()}/read")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_mails_each_notice_once_after_commit(tmp_path, settings):
    outbox_dir = tmp_path / "mail"
    worker = Worker(env={"EMAIL_URL": f"file://{outbox_dir}"})
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    try:
        person = UserFactory(email="leader@example.org")
        with transaction.atomic():
            notify(recipients=[person], kind="test.info", text="请于周五前报送整改情况")
        wait_for(lambda: Notification.objects.filter(emailed_at__isnull=False).exists(), 60)
        mails = list(outbox_dir.iterdir())
        assert len(mails) == 1
        text = mails[0].read_text()
        assert "leader@example.org" in text
        assert not OutboxMessage.objects.filter(done_at=None).exists()
    finally:
        worker.stop()
