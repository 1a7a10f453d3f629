"""E-mail copies of notices: composed here, sent by a worker (workers/mail.py).

A notice's mail is its text, a link to the service, and, for some subjects, an attachment
built from the subject as it stands when the mail is sent (an interview's calendar
invitation, a bulletin's PDF). `ATTACHMENTS` names the builder for each subject type.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audits import clock, outbox
from audits.models import Notification
from audits.trail import context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


# object_type → "module:function" taking the notice and returning its attachments.
# Capabilities add their subject here (interviews: the .ics; bulletins: the PDF).
ATTACHMENTS: dict[str, str] = {"bulletin": "audits.services.bulletins:mail_attachments"}


def _attachments(notice: Notification) -> list[Attachment]:
    target = ATTACHMENTS.get(notice.object_type)
    if not target:
        return []
    module, name = target.split(":")
    builder: Callable[[Notification], list[Attachment]] = getattr(
        importlib.import_module(module), name
    )
    return builder(notice)


def compose(notice: Notification) -> EmailMessage:
    """The e-mail copy of one notice, in the service's language (Chinese first)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("【督查】%(text)s") % {"text": notice.text[:120]}
        lines = [notice.text, ""]
        if settings.SITE_URL:
            lines.append(_("请登录督查系统查看：%(url)s") % {"url": settings.SITE_URL})
        lines.append(_("此邮件由系统自动发送，请勿回复。"))
    message = EmailMessage(
        subject=subject,
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient.email],
    )
    for item in _attachments(notice):
        message.attach(item.filename, item.content, item.mimetype)
    return message


def notifications_mail(*, notification_ids: list[str], outbox_id: int | None = None) -> int:
    """Send the mail of these notices not mailed yet; returns how many were sent.

    Each is marked mailed right after its own send: a crash between the two sends that one
    again (at least once, never lost). A recipient without an address is skipped.
    """
    sent = 0
    pending = (
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("created_at", "id")
    )
    for notice in pending:
        compose(notice).send()
        with transaction.atomic(), context.action("notification.mail"):
            Notification.objects.filter(pk=notice.pk).update(emailed_at=clock.now())
        sent += 1
    outbox.mark_done(outbox_id)
    return sent
