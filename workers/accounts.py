"""Scheduled upkeep of accounts."""

from celery import shared_task

from audits.services.accounts import expire_idle_sessions


@shared_task(name="workers.accounts.expire_idle_device_sessions", acks_late=True)
def expire_idle_device_sessions() -> int:
    return expire_idle_sessions()
