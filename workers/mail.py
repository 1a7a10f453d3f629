"""E-mail copies of notices (audits/services/mail.py)."""

import smtplib

from celery import Task, shared_task

from audits.services import mail


@shared_task(
    name="workers.mail.send_notifications",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=12,
)
def send_notifications(
    self: Task, notification_ids: list[str], outbox_id: int | None = None
) -> int:
    return mail.notifications_mail(notification_ids=notification_ids, outbox_id=outbox_id)
