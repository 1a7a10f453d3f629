"""Audit trail upkeep: seal what committed (every few seconds), mail the daily signed head."""

from celery import shared_task

from audits.services import trail


@shared_task(name="workers.trail.seal", acks_late=True, ignore_result=True)
def seal() -> int:
    """Seal every committed event (beat runs this every AUDIT_SEAL_INTERVAL_SECONDS)."""
    return trail.trail_seal()


@shared_task(name="workers.trail.mail_daily_head", acks_late=True)
def mail_daily_head() -> int:
    """Send the current signed head to the auditors (beat, daily at AUDIT_HEAD_MAIL_HOUR)."""
    return trail.trail_head_mail()
