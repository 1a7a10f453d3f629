"""Bulletins: compiling, the issued Word copy, delivery, and the scheduler's two jobs."""

from celery import shared_task
from django.conf import settings

from audits.services import bulletins


@shared_task(
    name="workers.bulletins.compile_bulletin",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.BULLETIN_TASK_TIME_LIMIT,
    soft_time_limit=max(1, settings.BULLETIN_TASK_TIME_LIMIT - 20),
)
def compile_bulletin(bulletin_id: str, outbox_id: int | None = None) -> str:
    """Idempotent: only the latest attempt of a bulletin still compiling keeps its work."""
    return bulletins.bulletin_compile(bulletin_id=bulletin_id, outbox_id=outbox_id)


@shared_task(name="workers.bulletins.render_issued_docx", acks_late=True)
def render_issued_docx(bulletin_id: str, outbox_id: int | None = None) -> str:
    return bulletins.bulletin_render_issued_docx(bulletin_id=bulletin_id, outbox_id=outbox_id)


@shared_task(name="workers.bulletins.deliver_bulletin", acks_late=True)
def deliver_bulletin(bulletin_id: str, outbox_id: int | None = None) -> int:
    return bulletins.bulletin_deliver(bulletin_id=bulletin_id, outbox_id=outbox_id)


@shared_task(name="workers.bulletins.generate_drafts", acks_late=True)
def generate_drafts() -> int:
    """Beat, daily: the drafts of campaigns that ended and of last month, each once."""
    return len(bulletins.bulletins_generate())


@shared_task(name="workers.bulletins.remind_unacknowledged", acks_late=True)
def remind_unacknowledged() -> int:
    """Beat, daily: remind recipients who have not acknowledged, once a round."""
    return bulletins.bulletins_remind()
