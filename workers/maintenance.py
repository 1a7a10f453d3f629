"""Scheduled housekeeping of bookkeeping tables."""

from celery import shared_task

from audits.services.maintenance import idempotency_purge


@shared_task(name="workers.maintenance.purge_idempotency_records", acks_late=True)
def purge_idempotency_records() -> int:
    return idempotency_purge()
