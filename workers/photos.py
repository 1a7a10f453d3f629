"""Processing of photo evidence, and the removal of abandoned uploads."""

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from audits.services.photos import processing, uploads


@shared_task(
    name="workers.photos.process_photo",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    time_limit=settings.PHOTO_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.PHOTO_TASK_TIME_LIMIT - 10),
)
def process_photo(self: Task, photo_id: str, outbox_id: int | None = None) -> str:
    """Idempotent: a photo already processed (or rejected) is left as it is.

    Transient failures (storage, database, time limit) are retried when the verb says so
    (it counts the attempts and decides); a file that cannot be evidence is rejected at
    once, without retries.
    """
    try:
        return processing.photo_process(photo_id, outbox_id)
    except (processing.Transient, DatabaseError, SoftTimeLimitExceeded) as exc:
        retry_in = processing.photo_process_failed(photo_id=photo_id, error=exc)
        if retry_in is None:
            return "rejected"
        raise self.retry(exc=exc, countdown=retry_in) from exc


@shared_task(name="workers.photos.remove_stale_uploads", acks_late=True)
def remove_stale_uploads() -> int:
    return uploads.uploads_remove_stale()
