"""The outbox sweeper (audits/outbox.py): work the broker never got, or no worker finished."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from audits import outbox
from audits.models import OutboxMessage


def outbox_sweep(
    *,
    stale_seconds: int | None = None,
    fresh_seconds: int = 5,
    keep_days: int = 7,
    batch: int = 500,
) -> int:
    """Re-send what was never relayed, or relayed long ago and not done; forget old rows."""
    now = timezone.now()
    stale = settings.OUTBOX_STALE_SECONDS if stale_seconds is None else stale_seconds
    due = (
        OutboxMessage.objects.filter(done_at__isnull=True)
        .filter(
            Q(relayed_at__isnull=True, created_at__lte=now - timedelta(seconds=fresh_seconds))
            | Q(relayed_at__lte=now - timedelta(seconds=stale))
        )
        .order_by("created_at")
    )
    ids = list(due.values_list("pk", flat=True)[:batch])
    sent = outbox.relay(ids) if ids else 0
    OutboxMessage.objects.filter(done_at__lte=now - timedelta(days=keep_days)).delete()
    return sent
