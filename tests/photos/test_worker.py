"""A real worker process picks photos up through the outbox after commit."""

import pytest

from audits.models import OutboxMessage, Photo
from tests.photos.helpers import post_photo, wait_for, world
from tests.photos.make_corpus import HOSTILE, jpeg

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_uploads_are_processed_by_a_worker_after_commit(photo_worker):
    w = world()
    good = post_photo(w.client, jpeg(31), finding=w.finding).json()["id"]
    bomb = post_photo(w.client, HOSTILE["bomb.png"][0](), finding=w.finding).json()["id"]
    broken = post_photo(w.client, HOSTILE["truncated.jpg"][0](), visit=w.visit).json()["id"]
    wait_for(lambda: not Photo.objects.filter(status="pending").exists(), timeout=60)
    assert Photo.objects.get(pk=good).status == "ready"
    assert Photo.objects.get(pk=bomb).reason == "too_many_pixels"
    assert Photo.objects.get(pk=broken).reason == "undecodable"
    assert not OutboxMessage.objects.filter(done_at=None).exists()
    assert set(Photo.objects.values_list("attempts", flat=True)) == {1}
    # The worker is still alive and well after the hostile files.
    assert photo_worker.process.poll() is None
    thumb = w.client.get(f"/api/v1/photos/{good}/thumbnail")
    assert thumb.status_code == 200
