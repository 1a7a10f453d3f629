"""Reads of notices: a user sees their own, newest first."""

from django.db.models import QuerySet

from audits.models import Notification, User
from audits.visibility import visible


def notifications_for(
    user: User, *, unread: bool = False, kind: str | None = None
) -> QuerySet[Notification]:
    qs = visible(user, Notification)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs
