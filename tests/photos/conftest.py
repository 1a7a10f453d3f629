import pytest

from tests.photos.helpers import Worker


@pytest.fixture
def photo_worker(transactional_db, settings):
    """A real worker; photos committed by the test are relayed to its queue."""
    worker = Worker()
    settings.CELERY_TASK_DEFAULT_QUEUE = worker.queue
    yield worker
    worker.stop()
