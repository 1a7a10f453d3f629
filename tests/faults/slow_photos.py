"""A Celery app for the fault tests: the project's, with the analysis of a photo made slow.

`celery -A tests.faults.slow_photos worker` runs the real tasks on the real code; only the
step that decodes a photo waits `SLOW_PHOTO_SECONDS` first, after the attempt is counted, so
that a test can kill the worker in the middle of a photo. Production code knows nothing of it.
"""

import os
import time

from audits.photos import processing
from server.celery_app import app

__all__ = ["app"]

_analyse = processing.analyse


def _slow_analyse(*args, **kwargs):
    time.sleep(float(os.environ.get("SLOW_PHOTO_SECONDS", "0")))
    return _analyse(*args, **kwargs)


processing.analyse = _slow_analyse
