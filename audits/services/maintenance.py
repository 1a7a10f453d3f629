"""Scheduled housekeeping of bookkeeping tables (workers/maintenance.py)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.models import IdempotencyRecord
from audits.trail import context


def idempotency_purge(*, older_than: timedelta | None = None) -> int:
    """Forget `Idempotency-Key`s older than `older_than` (default IDEMPOTENCY_TTL_HOURS); a
    key is kept at least 24 h whatever is asked, as the contract promises. Returns how many."""
    if older_than is None:
        older_than = timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    cutoff = timezone.now() - max(older_than, timedelta(hours=24))
    with transaction.atomic(), context.action("idempotency.purge"):
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
