"""What every process of the service checks as it starts (gunicorn.conf.py, the Celery app).

The configuration's own system checks (audits/checks.py, `--deploy` ones included) run
here because neither gunicorn nor Celery runs Django's checks: an error stops the process
before it serves a request or runs a task; a warning is logged.
"""

import logging

log = logging.getLogger("duchaa.startup")


def refuse_bad_configuration() -> None:
    import django

    django.setup()
    from django.core import checks
    from django.core.management.base import SystemCheckError

    from audits.checks import AUDIT_KEYS

    found = checks.run_checks(tags=[AUDIT_KEYS], include_deployment_checks=True)
    for message in found:
        if not message.is_serious():
            log.warning("%s", message)
    errors = [message for message in found if message.is_serious()]
    if errors:
        raise SystemCheckError("\n".join(str(error) for error in errors))
