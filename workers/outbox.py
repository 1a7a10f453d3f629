"""The outbox sweeper: re-send work the broker never got or a worker never finished."""

from celery import shared_task

from audits import outbox


@shared_task(name="workers.outbox.sweep", acks_late=True)
def sweep(stale_seconds: int | None = None) -> int:
    return outbox.sweep(stale_seconds=stale_seconds)
