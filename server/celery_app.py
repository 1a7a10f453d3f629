"""The Celery application; tasks live in the `workers` package."""

import logging
import os
import sys

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("duchaa")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The current app in every thread, not only this one: the domain reaches it as
# `celery.current_app` (audits/outbox.py) and never imports server/.
app.set_default()


# The sealer runs every few seconds and the outbox sweeper every 30 s; their "received /
# succeeded / sending" lines at INFO would bury everything else in the worker's and beat's
# output. Their warnings and errors still show.
QUIET_TASKS = ("workers.trail.seal", "workers.outbox.sweep")


class _QuietHousekeeping(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        text = record.getMessage()
        return not any(name in text for name in QUIET_TASKS)


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_bad_configuration(**kwargs: object) -> None:
    # Celery runs no Django checks: a worker or beat does not start on a configuration they
    # refuse (production with development audit keys). Celery logs and ignores an exception
    # from a signal handler, not an exit.
    from django.core.management.base import SystemCheckError

    from server.startup import refuse_bad_configuration

    try:
        refuse_bad_configuration()
    except SystemCheckError as error:
        # The real stderr: by beat_init, Celery has put a logging proxy in place of sys.stderr.
        sys.__stderr__.write(f"The configuration is refused:\n{error}\n")
        raise SystemExit(1) from None


@signals.after_setup_logger.connect
def _quiet_housekeeping(**kwargs: object) -> None:
    for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat"):
        logging.getLogger(name).addFilter(_QuietHousekeeping())
