"""The project's Celery app is the one the domain reaches, from any thread."""

import threading

from celery import current_app


def test_the_project_app_is_current_in_every_thread():
    """audits/outbox.py relays through `celery.current_app` (it does not import server/);
    requests and commits run on threads other than the one that created the app."""
    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(current_app.main))
    thread.start()
    thread.join()
    assert seen == ["duchaa"]
    assert current_app.conf.task_default_queue  # configured from Django's settings
