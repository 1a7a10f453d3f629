"""Helpers of the photo tests: a small inspection world, uploads, and worker processes."""

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from audits.choices import Level, Role, VisitStatus
from tests.conftest import ROOT, bearer, database_url_for
from tests.factories import FindingFactory, TeamFactory, UnitFactory, UserFactory, VisitFactory

TARGET = (33.64, 116.98)  # the target village's service centre


@dataclass
class World:
    inspector: object
    outsider: object
    visit: object
    finding: object

    @property
    def client(self):
        return bearer(self.inspector)


def world() -> World:
    village = UnitFactory(level=Level.VILLAGE, lat=TARGET[0], lon=TARGET[1])
    inspector = UserFactory(roles=[Role.INSPECTOR, Role.TEAM_LEAD])
    team = TeamFactory(lead=inspector)
    visit = VisitFactory(team=team, target=village, status=VisitStatus.IN_PROGRESS)
    finding = FindingFactory(visit=visit, created_by=inspector)
    outsider = UserFactory(roles=[Role.INSPECTOR])
    return World(inspector, outsider, visit, finding)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def post_photo(
    client,
    data: bytes,
    *,
    finding=None,
    visit=None,
    photo_id=None,
    digest: str | None = None,
    name: str = "IMG_0001.jpg",
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {
        "id": str(photo_id or uuid.uuid4()),
        "sha256": digest or sha(data),
        "file": SimpleUploadedFile(name, data, content_type="image/jpeg"),
    }
    if finding is not None:
        body["finding"] = str(finding.pk)
    if visit is not None:
        body["visit"] = str(visit.pk)
    return client.post("/api/v1/photos", body, format="multipart")


def stored_files() -> list[str]:
    """Every file under MEDIA_ROOT except the temporary area (relative paths)."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != "tmp"
    )


def temp_files() -> list[str]:
    tmp = Path(settings.MEDIA_ROOT) / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def stray_temp_files() -> list[str]:
    """Temporary files nothing will consume: all but the part files of live upload sessions."""
    from audits.models import PhotoUpload

    live = {f"upload-{pk}.part" for pk in PhotoUpload.objects.values_list("pk", flat=True)}
    return [name for name in temp_files() if name not in live]


def hostile(send):
    """Send one hostile request (`send()` returns the answer): whatever it got, the request
    must leave no temporary file behind, and an error must be a problem, never a 500."""
    response = send()
    left = stray_temp_files()
    assert left == [], f"temporary files left behind ({response.status_code}): {left}"
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json", response.content
    return response


BOUNDARY = "hostile-boundary-7d3f"


def multipart(parts, boundary: str = BOUNDARY) -> bytes:
    """A multipart body exactly as given, in order: (name, text) for a field,
    (name, filename, bytes) for a file; repeats and strange names allowed."""
    out = b""
    for part in parts:
        if len(part) == 2:
            name, value = part
            head = f'Content-Disposition: form-data; name="{name}"'
            data = value.encode() if isinstance(value, str) else value
        else:
            name, filename, data = part
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: image/jpeg"
            )
        out += f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


class CutStream:
    """A request body from a client that goes away after `data`: the read ends (`fail`
    False) or raises as a broken connection does in some servers (`fail` True)."""

    def __init__(self, data: bytes, *, fail: bool = False) -> None:
        self.data, self.fail, self.pos = data, fail, 0

    def read(self, size: int = -1) -> bytes:
        if self.pos >= len(self.data):
            if self.fail:
                raise ConnectionResetError("client went away")
            return b""
        end = len(self.data) if size is None or size < 0 else self.pos + size
        chunk = self.data[self.pos : end]
        self.pos += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def post_raw(
    client,
    body: bytes,
    *,
    boundary: str = BOUNDARY,
    content_type: str | None = None,
    cut_at: int | None = None,
    fail: bool = False,
    **headers,
):
    """POST /photos with a body built by hand; `cut_at` ends it early (the client is gone)
    while `Content-Length` still announces the whole body."""
    extra = dict(headers)
    if cut_at is not None:
        extra["wsgi.input"] = CutStream(body[:cut_at], fail=fail)
    return client.generic(
        "POST",
        "/api/v1/photos",
        body,
        content_type=content_type or f"multipart/form-data; boundary={boundary}",
        **extra,
    )


def wait_for(predicate, timeout: float = 60, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met in {timeout} s")


class Worker:
    """A real `celery worker` process on the test database, on a private queue."""

    def __init__(
        self,
        *,
        queue: str | None = None,
        pool: str = "solo",
        env: dict | None = None,
        app: str = "server",
    ) -> None:
        self.queue = queue or f"test-{uuid.uuid4().hex[:8]}"
        full_env = dict(
            os.environ,
            DATABASE_URL=database_url_for(connection.settings_dict["NAME"]),
            CELERY_TASK_DEFAULT_QUEUE=self.queue,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            **(env or {}),
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "--pool",
                pool,
                "--concurrency",
                "1",
                "-Q",
                self.queue,
                "-l",
                "info",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"{self.queue}@%h",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.stop()
            raise RuntimeError("worker did not start:\n" + "".join(self.lines[-40:]))

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    def children(self) -> list[int]:
        """Pool processes (prefork) of this worker, from /proc."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    found.append(int(entry))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
