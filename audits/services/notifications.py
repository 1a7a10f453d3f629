"""Telling people: in-app notices (the API and the sync feed) and their e-mail copies.

Every capability tells users through `notify()`, inside the transaction of the verb that
changed the state, so a notice exists exactly when the change committed. The e-mail copy
is work for a worker (through the outbox): a broken mail server never fails a verb, and a
notice is mailed once it can be.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Model

from audits import clock, outbox
from audits.models import Finding, Notification, User
from audits.services.common import acting, locked
from audits.visibility import visible

MAIL_TASK = "workers.mail.send_notifications"


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    text: str,
    about: Model | None = None,
    finding: Finding | None = None,
    dedupe_key: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notices of `kind` to each active recipient (once per `dedupe_key`); returns the new ones.

    Call inside the verb's transaction. With a `dedupe_key`, a recipient who already had a
    notice with that key gets no second one: trackers may run twice, late or concurrently.
    """
    people = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not people:
        return []
    object_type = (about._meta.model_name or "") if about is not None else ""
    object_id = str(about.pk) if about is not None else ""
    rows = [
        Notification(
            id=uuid.uuid4(),
            recipient_id=pk,
            kind=kind,
            text=text[:300],
            finding=finding,
            object_type=object_type,
            object_id=object_id,
            dedupe_key=dedupe_key[:200],
        )
        for pk in sorted(people)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))
    new = list(Notification.objects.filter(pk__in=[r.pk for r in rows]))
    mailed = [n.pk for n in new if people[n.recipient_id].email]
    if email and mailed:
        outbox.enqueue(MAIL_TASK, notification_ids=[str(pk) for pk in mailed])
    return new


def notification_read(*, actor: User, notification_id: Any) -> Notification:
    """The recipient marks a notice as read (reading twice changes nothing)."""
    with acting(actor, "notification.read"):
        notice = locked(visible(actor, Notification), notification_id)
        if notice.read_at is None:
            notice.read_at = clock.now()
            notice.save(update_fields=["read_at"])
    return notice
