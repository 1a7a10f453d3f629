"""Scheduled housekeeping of bookkeeping tables."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from audits.api.replay import purge_idempotency_records as purge


@shared_task(name="workers.maintenance.purge_idempotency_records", acks_late=True)
def purge_idempotency_records() -> int:
    return purge(older_than=timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS))
