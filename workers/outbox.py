"""The outbox sweeper: re-send work the broker never got or a worker never finished."""

from celery import shared_task

from audits.services.outbox import outbox_sweep


@shared_task(name="workers.outbox.sweep", acks_late=True)
def sweep(stale_seconds: int | None = None) -> int:
    return outbox_sweep(stale_seconds=stale_seconds)
