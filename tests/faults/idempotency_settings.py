"""The project's settings with the test-only idempotency views (for gunicorn in tests)."""

from server.settings import *  # noqa: F403

ROOT_URLCONF = "tests.faults.idempotency_urls"
