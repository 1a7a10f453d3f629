"""Content-addressed, write-once files through Django's storage API.

Everything reaches storage whole: bytes are first written to a private temporary file
under `MEDIA_ROOT/tmp` and handed to the storage only when complete and verified. On the
local disk that hand-over is a rename (atomic); an object store receives one PUT. A crash
can leave a temporary file behind (removed by the stale-upload sweep), never half a photo.
"""

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage


def tmp_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_tmp_file(suffix: str = ".part") -> tuple[int, str]:
    """(fd, path) of a fresh private temporary file under MEDIA_ROOT/tmp."""
    return tempfile.mkstemp(dir=tmp_dir(), suffix=suffix)


def original_name(sha256: str) -> str:
    return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def derived_name(sha256: str, kind: str) -> str:
    return f"derived/{sha256[:2]}/{sha256[2:4]}/{sha256}-{kind}.jpg"


class _TempFile(File):
    """A finished temporary file: FileSystemStorage moves it into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name


def put_file(name: str, path: str) -> str:
    """Store the complete file at `path` under `name`, once; `path` is consumed.

    The names are content-addressed: if `name` exists it holds these very bytes, so the
    existing file is kept (write-once) and the new copy dropped.
    """
    try:
        if default_storage.exists(name):
            return name
        with open(path, "rb") as handle:
            stored = default_storage.save(name, _TempFile(handle, name=path))
        if stored != name:  # lost a race to an identical upload: keep the first
            default_storage.delete(stored)
        return name
    finally:
        if os.path.exists(path):
            os.unlink(path)


def local_path(name: str) -> str | None:
    """A path on this machine for a stored file, when the storage has one."""
    try:
        return default_storage.path(name)
    except NotImplementedError:
        return None
