"""Processing of photo evidence, and the removal of abandoned uploads."""

import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from audits.models import Photo
from audits.services import photos


@shared_task(
    name="workers.photos.process_photo",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    time_limit=settings.PHOTO_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.PHOTO_TASK_TIME_LIMIT - 10),
)
def process_photo(self, photo_id: str, outbox_id: int | None = None) -> str:
    """Idempotent: a photo already processed (or rejected) is left as it is.

    Transient failures (storage, database, time limit) are retried with exponential
    backoff; attempts are counted in the photo row (a killed worker's attempt included),
    and past PHOTO_MAX_ATTEMPTS the photo is rejected with the reason. A file that cannot
    be evidence is rejected at once, without retries.
    """
    try:
        return photos.process(photo_id, outbox_id)
    except (photos.Transient, DatabaseError, SoftTimeLimitExceeded) as exc:
        attempts = Photo.objects.filter(pk=photo_id).values_list("attempts", flat=True).first()
        if attempts is None or attempts >= settings.PHOTO_MAX_ATTEMPTS:
            photos.reject(photo_id, f"failed: {type(exc).__name__}: {exc}")
            return "rejected"
        countdown = min(300, 2**attempts) + random.uniform(0, 1)  # noqa: S311 - jitter
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="workers.photos.remove_stale_uploads", acks_late=True)
def remove_stale_uploads() -> int:
    return photos.remove_stale_uploads()
