"""The transactional outbox: work for the workers that is never lost and never blocks.

`enqueue()` writes a row in the caller's transaction; after commit, `relay()` hands it to
the broker with short socket timeouts and no retries, so a request never waits on a broken
broker: if Redis is down the row simply stays. The worker marks the row done
(`mark_done`) in the transaction that completes the work; `outbox_sweep()`
(audits/services/outbox.py, beat every 30 s) re-sends rows never relayed or relayed long
ago and still not done. Tasks must therefore
be idempotent: a row may be delivered more than once, never zero times.
"""

import contextlib
import logging
import os
import threading
from collections.abc import Iterable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audits.models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(task: str, **kwargs) -> OutboxMessage:
    """A row for `task(**kwargs, outbox_id=…)`, relayed once the transaction commits."""
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: relay([message.pk]))
    return message


class _BrokerLink(threading.local):
    """This process's (and thread's) connection to the broker, kept between relays.

    Opening one costs several round trips (about 7 ms here, against under 1 ms to publish
    on an open one). A broker restart does not break it (the Redis client reconnects). Any
    error drops it and the next relay opens a new one, as does a process forked from the
    one that opened it, or one whose broker setting changed.
    """

    connection = None
    pid = 0
    url = ""

    def get(self):
        if (
            self.connection is None
            or self.pid != os.getpid()
            or self.url != settings.CELERY_BROKER_URL
        ):
            self.drop()
            timeout = settings.OUTBOX_RELAY_TIMEOUT
            self.connection = current_app.connection_for_write(
                settings.CELERY_BROKER_URL,
                connect_timeout=timeout,
                transport_options={
                    **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                    "socket_timeout": timeout,
                    "socket_connect_timeout": timeout,
                    "max_retries": 0,
                },
            )
            self.pid, self.url = os.getpid(), settings.CELERY_BROKER_URL
        return self.connection

    def drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and self.pid == os.getpid():
            with contextlib.suppress(Exception):  # thrown away because it failed
                connection.release()


_link = _BrokerLink()


def relay(ids: Iterable[int]) -> int:
    """Publish these rows (those not done yet); returns how many reached the broker.

    Never raises for a broker problem: the rows stay for the sweeper. The Celery app is the
    project's (server/celery_app.py makes it the default wherever Django's settings load).
    """
    rows = list(OutboxMessage.objects.filter(pk__in=list(ids), done_at__isnull=True))
    if not rows:
        return 0
    sent: list[int] = []
    try:
        conn = _link.get()
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=settings.OUTBOX_RELAY_TIMEOUT
        )
        for row in rows:
            current_app.send_task(
                row.task,
                kwargs={**row.kwargs, "outbox_id": row.pk},
                connection=conn,
                retry=False,
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            )
            sent.append(row.pk)
    except Exception as exc:
        _link.drop()
        log.warning(
            "outbox: broker unreachable, %d message(s) left for the sweeper: %s",
            len(rows) - len(sent),
            exc,
        )
    if sent:
        OutboxMessage.objects.filter(pk__in=sent).update(
            relayed_at=timezone.now(), sent_count=F("sent_count") + 1
        )
    return len(sent)


def mark_done(outbox_id: int | None) -> None:
    if outbox_id is not None:
        OutboxMessage.objects.filter(pk=outbox_id, done_at__isnull=True).update(
            done_at=timezone.now()
        )
