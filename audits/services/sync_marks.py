"""Marks for the mobile sync feed where row changes alone would not tell the whole story."""

from collections.abc import Iterable

from audits.models import Finding, SyncRemoval, Visit


def visit_left_view(visit: Visit, user_ids: Iterable[int]) -> None:
    """These users may no longer see the visit: tell their apps to drop it and its findings."""
    finding_ids = list(Finding.objects.filter(visit=visit).values_list("pk", flat=True))
    SyncRemoval.objects.bulk_create(
        [SyncRemoval(user_id=u, object_type="visit", object_id=visit.pk) for u in user_ids]
        + [
            SyncRemoval(user_id=u, object_type="finding", object_id=f)
            for u in user_ids
            for f in finding_ids
        ]
    )


def touch_findings(visit: Visit) -> None:
    """Re-stamp the visit's findings so users who now see the visit get them too.

    The update changes no field: the sync trigger stamps the row, the audit trigger
    ignores the stamp, so this is not an event.
    """
    Finding.objects.filter(visit=visit).update(sync_xid=0)
