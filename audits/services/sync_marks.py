"""Marks for the mobile sync feed where row changes alone would not tell the whole story."""

from collections.abc import Iterable

from django.db.models import Q

from audits.models import Finding, Photo, SyncRemoval, Visit


def visit_left_view(visit: Visit, user_ids: Iterable[int]) -> None:
    """These users may no longer see the visit: tell their apps to drop it and its findings."""
    users = list(user_ids)  # read once: any iterable will do, a generator included
    finding_ids = list(Finding.objects.filter(visit=visit).values_list("pk", flat=True))
    SyncRemoval.objects.bulk_create(
        [SyncRemoval(user_id=u, object_type="visit", object_id=visit.pk) for u in users]
        + [
            SyncRemoval(user_id=u, object_type="finding", object_id=f)
            for u in users
            for f in finding_ids
        ]
    )


def touch_findings(visit: Visit) -> None:
    """Re-stamp the visit's findings so users who now see the visit get them too.

    The update changes no field: the sync trigger stamps the row, the audit trigger
    ignores the stamp, so this is not an event.
    """
    Finding.objects.filter(visit=visit).update(sync_xid=0)


def touch_photos_of(finding: Finding) -> None:
    """Re-stamp a finding's photos, and the photos matching them, when more users come to
    see the finding (its publication): its photos are new to them, and the `reused` flag of
    photos that match them may now show. Neither shows in a row of its own."""
    ids = list(Photo.objects.filter(finding=finding).values_list("pk", flat=True))
    if ids:
        Photo.objects.filter(Q(pk__in=ids) | Q(matches__overlap=ids)).update(sync_xid=0)
