"""Photo uploads under load: `POST /api/v1/photos` against a bare Django view that streams
the same multipart body to disk (the floor) and a naive DRF `ImageField` view that decodes
and thumbnails in the request, on one gunicorn server, 8 concurrent clients.

- 3 MB camera JPEGs (12 MP, EXIF): wrk with a Lua script that sends the prebuilt body with
  a fresh photo id in every request; uploads/s, p50/p99 and CPU per upload land in the
  main table. Every answer must be 201 (a 200 would be a replay, not a new photo).
- 50 MB PNGs (4096² noise): a pool of 8 Python clients (http.client, the file sent with
  `sendfile`), one unmeasured upload each, then 3 each (BENCH_UPLOAD_ROUNDS); uploads/s
  and the slowest upload (of 24, a p99 would be the same figure).
- Peak resident memory of the gunicorn workers during each of those loads: VmHWM from
  /proc (reset through `clear_refs` before the load), cross-checked by polling VmRSS.

The bytes repeat: every upload of a size is the same file under a new id. The API accepts
each as a new photo (201): the original is stored once under its SHA-256 (content-addressed,
write-once) and every photo row points at it; only the first upload moves its temporary file
into place, the others delete theirs. `reused` is not concerned: the worker sets it only when
the same picture is evidence of another finding or visit, and all of these photos belong to
one finding (no worker runs during the bench anyway: the outbox rows are relayed to a private
queue, deleted at the end).

`PHOTO_MAX_BYTES` is raised to 64 MiB on this server: the default 40 MiB refuses a 50 MB
photo (413 on its `Content-Length`, in both the whole and the resumable paths) before
reading it, which would measure nothing. The limit only decides refusals; the code path is
the default one.

Leaves behind in the bench database: one campaign, visit and finding of `inspector_a`'s team,
and the photo rows uploaded (this benchmark runs last). Files go to a temporary MEDIA_ROOT,
removed at the end. `python -m bench.uploads prepare|queries` are the Django-side helpers it
runs in subprocesses.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    BENCH_DB,
    ROOT,
    BenchError,
    Context,
    CpuSnapshot,
    Measure,
    Row,
    Server,
    fetch,
    log,
    require_wrk,
)

NAME = "uploads"
CLIENTS = 8  # the figure, whatever --connections says
BIG_ROUNDS = int(os.environ.get("BENCH_UPLOAD_ROUNDS", "3"))  # measured 50 MB uploads/client
MAX_BYTES = 64 * 1024 * 1024  # PHOTO_MAX_BYTES on the bench server (see the docstring)
SMALL_SIDE = (4000, 3000)  # 12 MP: at quality 80, a 3.2 MB JPEG
BIG_SIDE = 4096  # 4096² RGB noise: a 50.4 MB PNG, 16.8 MP (under PHOTO_MAX_PIXELS)
BOUNDARY = "duchaa-bench-5f0e7c2a9b41d8e3"
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    authenticated: bool = True


FLOOR = Target(
    "bare Django view, multipart streamed to disk (floor)",
    "/bench/upload-floor",
    authenticated=False,
)
API = Target("POST /api/v1/photos", "/api/v1/photos")
NAIVE = Target("naive DRF ImageField view, thumbnails in request", "/bench/upload-naive")


# --- files and bodies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    path: Path
    size: int
    sha256: str
    content_type: str
    filename: str

    @property
    def label(self) -> str:
        return f"{self.size / 1e6:.1f} MB {self.content_type.split('/')[1].upper()}"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _camera_jpeg(path: Path) -> Upload:
    """A phone-like 12 MP JPEG with EXIF (rotated, GPS, time), about 3 MB."""
    from PIL import Image, ImageChops

    from tests.photos.make_corpus import exif_bytes, noise

    grain = Image.effect_noise(SMALL_SIDE, 12).convert("RGB")
    picture = ImageChops.add(noise(2015, SMALL_SIDE), grain, scale=1.0, offset=-100)
    picture.save(
        path,
        "JPEG",
        quality=80,
        exif=exif_bytes(taken="2015:06:01 10:00:00", gps=(33.64, 116.98), orientation=6),
    )
    return Upload(path, path.stat().st_size, _digest(path), "image/jpeg", "IMG_0001.jpg")


def _big_png(path: Path) -> Upload:
    """50 MB that is a real picture (noise does not compress), so a decoder has work."""
    from PIL import Image

    pixels = random.Random(2015).randbytes(BIG_SIDE * BIG_SIDE * 3)
    Image.frombytes("RGB", (BIG_SIDE, BIG_SIDE), pixels).save(path, "PNG", compress_level=1)
    return Upload(path, path.stat().st_size, _digest(path), "image/png", "IMG_0002.png")


@dataclass(frozen=True)
class Body:
    """One multipart body: `opening` + the file + `before_id` + a 36-character id + `closing`.

    The id comes last so that a client can send everything before it unchanged.
    """

    upload: Upload
    opening: bytes
    before_id: bytes
    closing: bytes

    @classmethod
    def of(cls, upload: Upload, finding: str) -> Body:
        def part(name: str, value: str) -> bytes:
            return (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()

        opening = (
            part("finding", finding)
            + part("sha256", upload.sha256)
            + (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{upload.filename}"\r\nContent-Type: {upload.content_type}\r\n\r\n'
            ).encode()
        )
        before_id = (
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="id"\r\n\r\n'
        ).encode()
        return cls(upload, opening, before_id, f"\r\n--{BOUNDARY}--\r\n".encode())

    @property
    def length(self) -> int:
        return len(self.opening) + self.upload.size + len(self.before_id) + 36 + len(self.closing)

    def whole(self, photo_id: str) -> bytes:
        return (
            self.opening
            + self.upload.path.read_bytes()
            + self.before_id
            + photo_id.encode()
            + self.closing
        )


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _headers(target: Target, token: str, length: int | None = None) -> dict[str, str]:
    headers = {"Content-Type": CONTENT_TYPE}
    if length is not None:
        headers["Content-Length"] = str(length)
    if target.authenticated:
        headers["Authorization"] = f"Bearer {token}"
    return headers


# --- one request, the checks before the load -----------------------------------------------


def _post(
    server: Server, target: Target, token: str, body: Body, photo_id: str
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    try:
        conn.request(
            "POST", target.path, body=body.whole(photo_id), headers=_headers(target, token)
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _expect(what: str, status: int, data: bytes, wanted: int) -> None:
    if status != wanted:
        raise BenchError(f"{what} answered {status}, not {wanted}: {data[:400]!r}")


def _check(server: Server, token: str, body: Body) -> dict[str, int]:
    """Each target once, and the API's answers to repeated bytes: response sizes by path."""
    sizes = {}
    for target in (FLOOR, API, NAIVE):
        status, data = _post(server, target, token, body, str(uuid.uuid4()))
        _expect(f"POST {target.path}", status, data, 201)
        sizes[target.path] = len(data)
    # The load repeats these bytes under new ids: each must be a new photo (201) of the
    # same stored original; the same id again is a repeat (200), not a second photo.
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for photo_id, wanted in ((first, 201), (second, 201), (second, 200)):
        status, data = _post(server, API, token, body, photo_id)
        _expect(f"POST /api/v1/photos (id {photo_id})", status, data, wanted)
    auth = {"Authorization": f"Bearer {token}"}
    photos = []
    for photo_id in (first, second):
        status, data = fetch("GET", f"{server.base}/api/v1/photos/{photo_id}", headers=auth)
        _expect(f"GET /api/v1/photos/{photo_id}", status, data, 200)
        photos.append(json.loads(data))
    if {p["sha256"] for p in photos} != {body.upload.sha256}:
        raise BenchError(f"the two photos do not share the upload's SHA-256: {photos}")
    return sizes


# --- resident memory of the workers ---------------------------------------------------------


def _status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _workers(master: int) -> list[int]:
    try:
        with open(f"/proc/{master}/task/{master}/children") as handle:
            return [int(pid) for pid in handle.read().split()]
    except OSError:  # no CONFIG_PROC_CHILDREN: scan for the master's children
        found = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat") as handle:
                        stat = handle.read()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2 :].split()[1]) == master:
                    found.append(int(entry.name))
        return found


@dataclass
class RssWatch:
    """Peak RSS of each gunicorn worker while the block runs (KiB).

    Before: each worker's peak is reset to its current RSS (`clear_refs` 5), so VmHWM after
    is the peak of this load alone. During: VmRSS polled, in case the reset is refused (then
    a short peak between polls may be missed, and the figure says so).
    """

    master: int
    start: dict[int, int] = field(default_factory=dict)
    polled: dict[int, int] = field(default_factory=dict)
    hwm: dict[int, int] = field(default_factory=dict)
    reset: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssWatch:
        for pid in _workers(self.master):
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as handle:
                    handle.write("5")
            except OSError:
                self.reset = False
            if (rss := _status_kib(pid, "VmRSS")) is not None:
                self.start[pid] = rss
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            for pid in _workers(self.master):
                if (rss := _status_kib(pid, "VmRSS")) is not None:
                    self.polled[pid] = max(rss, self.polled.get(pid, 0))
            self._stop.wait(POLL_SECONDS)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for pid in _workers(self.master):
            if (hwm := _status_kib(pid, "VmHWM")) is not None:
                self.hwm[pid] = hwm

    def peak(self) -> tuple[int, int]:
        """(the highest worker peak, that worker's RSS before the load), KiB."""
        peaks = dict(self.polled)
        if self.reset:
            for pid, hwm in self.hwm.items():
                if pid in self.start:  # a worker started mid-load has no reset peak
                    peaks[pid] = max(hwm, peaks.get(pid, 0))
        if not peaks:
            raise BenchError("no gunicorn worker found to measure")
        pid = max(peaks, key=peaks.__getitem__)
        return peaks[pid], self.start.get(pid, peaks[pid])


def _drain(server: Server, timeout: float = 120.0) -> None:
    """Wait until the workers are idle: wrk stops with uploads in flight, and a sync worker
    finishes the one it holds (the naive view's decode: seconds) before it notices the
    client is gone. Those must not run inside the next measurement."""
    master = server.process.pid if server.process else 0
    deadline = time.monotonic() + timeout

    def ticks() -> int:
        total = 0
        for pid in _workers(master):
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total

    last = ticks()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = ticks()
        if now - last <= 1:  # at most one tick in a quarter second: nothing running
            return
        last = now
    log(f"the workers were still busy after {timeout:.0f} s")


@dataclass(frozen=True)
class Memory:
    target: Target
    upload: Upload
    peak_kib: int
    before_kib: int
    polled_only: bool

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.before_kib) / 1024


# --- 3 MB: wrk -----------------------------------------------------------------------------

# Each wrk thread reads the prebuilt request (HTTP head + multipart up to the id) once and
# sends it with a fresh id per request: the prefix is new for every run, the thread number
# and a counter make the rest, so no id repeats. Every answer must be 201.
LUA = r"""
local threads, next_tid = {}, 0
created, other, bad = 0, 0, ""

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local head, tail, prefix
function init(args)
  local f = assert(io.open(args[1], "rb")); head = f:read("*a"); f:close()
  f = assert(io.open(args[2], "rb")); tail = f:read("*a"); f:close()
  prefix = args[3]
end

local counter = 0
function request()
  counter = counter + 1
  return head .. string.format("%s-%04x-%012x", prefix, tid, counter) .. tail
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if bad == "" then bad = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

done = function(summary, latency, requests)
  local c, o, b = 0, 0, ""
  for _, t in ipairs(threads) do
    c = c + t:get("created"); o = o + t:get("other")
    if b == "" then b = t:get("bad") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"status\": %d, \"timeout\": %d, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"created\": %d, \"other\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), c, o))
  io.write("BENCH_BAD " .. string.gsub(b, "[\r\n]", " ") .. "\n")
end
"""


@dataclass(frozen=True)
class WrkRequest:
    """The files the Lua script reads: everything before the id, and after it."""

    head: Path
    tail: Path

    @classmethod
    def write(
        cls, directory: Path, server: Server, target: Target, token: str, body: Body
    ) -> WrkRequest:
        lines = [
            f"POST {target.path} HTTP/1.1",
            f"Host: 127.0.0.1:{server.port}",
            *(f"{k}: {v}" for k, v in _headers(target, token, body.length).items()),
        ]
        head = directory / f"wrk-{target.path.strip('/').replace('/', '-')}.head"
        with head.open("wb") as out:
            out.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            out.write(body.opening)
            with body.upload.path.open("rb") as src:
                shutil.copyfileobj(src, out)
            out.write(body.before_id)
        tail = head.with_suffix(".tail")
        tail.write_bytes(body.closing)
        return cls(head, tail)


def _wrk(ctx: Context, server: Server, request: WrkRequest, seconds: int) -> dict:
    script = ctx.workdir / "uploads.lua"
    if not script.exists():
        script.write_text(LUA)
    prefix = str(uuid.uuid4())[:18]  # 8-4-4 of a random UUID: new for every run
    cmd = [
        require_wrk(),
        f"-t{min(ctx.options.wrk_threads, CLIENTS)}",
        f"-c{CLIENTS}",
        f"-d{seconds}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        server.base + "/",
        "--",
        str(request.head),
        str(request.tail),
        prefix,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    result, bad = None, ""
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line.removeprefix("BENCH_JSON "))
        elif line.startswith("BENCH_BAD "):
            bad = line.removeprefix("BENCH_BAD ").strip()
    if result is None:
        raise BenchError(
            f"wrk printed no summary (exit {done.returncode}):\n{done.stdout}{done.stderr}".strip()
        )
    if result["other"]:
        log(f"{result['other']} answers were not 201, e.g.: {bad}")
    return result


def _load(
    ctx: Context,
    server: Server,
    target: Target,
    request: WrkRequest,
    upload: Upload,
    body_bytes: int,
    queries: int | None,
) -> tuple[Measure, Memory]:
    opts = ctx.options
    if opts.warmup > 0:
        _wrk(ctx, server, request, opts.warmup)
        _drain(server)
    label = f"{target.label}, {upload.label}, {CLIENTS} clients"
    log(f"measuring {label} for {opts.seconds} s")
    pid = server.process.pid if server.process else 0
    with RssWatch(pid) as watch:
        before = CpuSnapshot.take(pid, BENCH_DB)
        result = _wrk(ctx, server, request, opts.seconds)
        after = CpuSnapshot.take(pid, BENCH_DB)
    _drain(server)
    if not result["requests"]:
        raise BenchError(
            f"no upload to {target.path} finished in {opts.seconds} s: measure longer (--seconds)"
        )
    cpu_ms, busy = after.per_request(before, result["requests"])
    seconds = result["duration_us"] / 1e6
    errors = sum(result[k] for k in ("connect", "read", "write", "timeout")) + result["other"]
    measure = Measure(
        target=label,
        rps=result["requests"] / seconds if seconds else 0.0,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        requests=result["requests"],
        errors=errors,
        body_bytes=body_bytes,
        queries=queries,
        cpu_ms=cpu_ms,
        busy=busy,
    )
    peak, start = watch.peak()
    return measure, Memory(target, upload, peak, start, not watch.reset)


# --- 50 MB: a pool of Python clients ---------------------------------------------------------


@dataclass(frozen=True)
class PoolResult:
    uploads: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.uploads / self.seconds if self.seconds else 0.0


def _one_streamed(server: Server, target: Target, token: str, body: Body) -> tuple[int, str]:
    """One upload with the file sent from disk (`sendfile`): the client holds no copy."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    try:
        conn.putrequest("POST", target.path, skip_accept_encoding=True)
        for name, value in _headers(target, token, body.length).items():
            conn.putheader(name, value)
        conn.endheaders(body.opening)
        with body.upload.path.open("rb") as handle:
            conn.sock.sendfile(handle)
        conn.send(body.before_id + str(uuid.uuid4()).encode() + body.closing)
        response = conn.getresponse()
        return response.status, response.read()[:300].decode(errors="replace")
    except OSError as exc:
        return 0, repr(exc)
    finally:
        conn.close()


def _pool(server: Server, target: Target, token: str, body: Body, rounds: int) -> PoolResult:
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    start = threading.Barrier(CLIENTS)
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        for _ in range(rounds):
            began = time.perf_counter()
            status, text = _one_streamed(server, target, token, body)
            took = time.perf_counter() - began
            with lock:
                if status == 201:
                    latencies.append(took)
                else:
                    failures[f"{status} {text}"] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        sample, count = failures.most_common(1)[0]
        raise BenchError(
            f"{sum(failures.values())} of {CLIENTS * rounds} uploads of "
            f"{body.upload.label} to {target.path} failed ({count}×: {sample})"
        )
    return PoolResult(len(latencies), seconds, latencies)


def _big(server: Server, target: Target, token: str, body: Body) -> tuple[PoolResult, Memory]:
    log(
        f"uploading {body.upload.label} to {target.path}: {CLIENTS} clients × "
        f"(1 unmeasured + {BIG_ROUNDS})"
    )
    # The first big uploads of a worker cost twice the later ones (heap growth, fresh page
    # cache for the temporary files): a round of warm-up, as wrk's for the small ones.
    _pool(server, target, token, body, 1)
    pid = server.process.pid if server.process else 0
    _drain(server)
    with RssWatch(pid) as watch:
        result = _pool(server, target, token, body, BIG_ROUNDS)
    peak, start = watch.peak()
    return result, Memory(target, body.upload, peak, start, not watch.reset)


# --- the Django side (subprocesses) ---------------------------------------------------------


def _django_env(database_url: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "JWT_ACCESS_MINUTES": "120",
        "CACHE_KEY_PREFIX": f"duchaa-bench-{os.getpid()}",
        **extra,
    }


def _helper(command: str, env: dict[str, str], stdin: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.uploads", command],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(
            f"bench.uploads {command} failed:\n{(done.stderr or done.stdout).strip()[-1500:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare() -> dict[str, str]:
    """A visit of `inspector_a`'s team, checked in, with one draft finding: what photos
    attach to. Through the services, as the planner and the inspector would."""
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from audits.choices import Level
    from audits.models import Checklist, Team, Unit, User
    from audits.services.campaigns import campaign_create
    from audits.services.draws import visit_add
    from audits.services.findings import finding_create
    from audits.services.visits import visit_check_in

    planner = User.objects.get(username="planner_city")
    inspector = User.objects.get(username="inspector_a")
    team = Team.objects.get(members=inspector)
    village = Unit.objects.filter(level=Level.VILLAGE, lat__isnull=False).order_by("path").first()
    checklist = Checklist.objects.order_by("title").first()
    item = checklist.items.order_by("position").first()
    today = timezone.localdate()
    campaign, _ = campaign_create(
        actor=planner,
        title=f"bench uploads {uuid.uuid4().hex[:8]}",
        mode="unannounced",
        unit=planner.unit,
        starts_on=today,
        ends_on=today + timedelta(days=30),
        checklist=checklist,
    )
    visit, _ = visit_add(actor=planner, campaign=campaign, target=village, team=team)
    visit_check_in(
        actor=inspector,
        visit_id=visit.pk,
        lat=float(village.lat),
        lon=float(village.lon),
        at=timezone.now(),
    )
    finding, _ = finding_create(
        actor=inspector,
        finding_id=uuid.uuid4(),
        visit=visit,
        checklist_item=item,
        severity="minor",
        title="bench: photo evidence",
        observed_at=timezone.now(),
    )
    return {"visit": str(visit.pk), "finding": str(finding.pk)}


def queries(spec: dict) -> dict[str, int]:
    """SQL statements Django runs for one upload to each path (after one uncounted one)."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    upload = Upload(
        Path(spec["path"]), spec["size"], spec["sha256"], spec["content_type"], spec["filename"]
    )
    body = Body.of(upload, spec["finding"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {spec['token']}")
    counts = {}
    for path in spec["paths"]:
        for _first_uncounted in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.generic(
                    "POST", path, body.whole(str(uuid.uuid4())), content_type=CONTENT_TYPE
                )
            if response.status_code != 201:
                raise SystemExit(
                    f"POST {path} answered {response.status_code}: {response.content[:300]!r}"
                )
        # As bench/queries.py: the statements, not the BEGIN/COMMIT around them.
        counts[path] = sum(
            q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK") for q in captured.captured_queries
        )
    return counts


# --- the run -------------------------------------------------------------------------------


def _drop_queue(queue: str) -> None:
    """The outbox relayed one message per photo to this private queue: nobody reads it."""
    try:
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    except Exception as exc:  # leftovers in Redis must not lose the figures
        log(f"could not delete the Redis queue {queue}: {exc}")


def _figures(
    big: dict[str, PoolResult], small_mem: dict[str, Memory], big_mem: dict[str, Memory]
) -> list[dict]:
    floor_big, floor_small = big[FLOOR.path], small_mem[FLOOR.path]
    label = big_mem[FLOOR.path].upload.label
    rows = []
    for target in (FLOOR, API, NAIVE):
        result = big[target.path]
        is_floor = target is FLOOR
        name = "floor" if is_floor else target.label
        rows.append(
            {
                "name": f"uploads/s, {label}, {CLIENTS} clients, {name}",
                "value": round(result.rate, 2),
                "unit": "uploads/s",
                "floor": None if is_floor else round(floor_big.rate, 2),
                "ratio": None if is_floor else round(floor_big.rate / result.rate, 2),
            }
        )
        slowest = max(result.latencies) * 1000
        rows.append(
            {
                "name": f"slowest of {result.uploads} uploads, {label}, {name}",
                "value": round(slowest),
                "unit": "ms",
                "floor": None if is_floor else round(max(floor_big.latencies) * 1000),
            }
        )
    for memory, floor in ((small_mem, floor_small), (big_mem, big_mem[FLOOR.path])):
        for target in (FLOOR, API, NAIVE):
            m = memory[target.path]
            is_floor = target is FLOOR
            note = " (polled)" if m.polled_only else ""
            rows.append(
                {
                    "name": f"peak worker RSS{note}, {m.upload.label} uploads, "
                    + ("floor" if is_floor else target.label),
                    "value": round(m.peak_mib, 1),
                    "unit": "MiB",
                    "floor": None if is_floor else round(floor.peak_mib, 1),
                    "ratio": None if is_floor else round(m.peak_mib / floor.peak_mib, 2),
                }
            )
    for target in (FLOOR, API, NAIVE):
        growth = big_mem[target.path].peak_mib - small_mem[target.path].peak_mib
        floor_growth = big_mem[FLOOR.path].peak_mib - small_mem[FLOOR.path].peak_mib
        rows.append(
            {
                "name": f"peak RSS growth, {small_mem[target.path].upload.label} → "
                f"{label}, " + ("floor" if target is FLOOR else target.label),
                "value": round(growth, 1),
                "unit": "MiB",
                "floor": None if target is FLOOR else round(floor_growth, 1),
            }
        )
    return rows


def run(ctx: Context) -> list[Row | dict]:
    database_url = ctx.database_url()
    media = ctx.workdir / "uploads-media"
    queue = f"duchaa-bench-uploads-{os.getpid()}"
    env = {
        "MEDIA_ROOT": str(media),
        "PHOTO_MAX_BYTES": str(MAX_BYTES),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    try:
        return _run(ctx, database_url, env)
    finally:
        _drop_queue(queue)
        shutil.rmtree(media, ignore_errors=True)


def _run(ctx: Context, database_url: str, env: dict[str, str]) -> list[Row | dict]:
    started = time.monotonic()
    where = _helper("prepare", _django_env(database_url, env))
    files = ctx.workdir / "uploads-files"
    files.mkdir(exist_ok=True)
    small, big = _camera_jpeg(files / "small.jpg"), _big_png(files / "big.png")
    log(
        f"prepared a finding and {small.label} + {big.label} files in "
        f"{time.monotonic() - started:.1f} s"
    )
    small_body, big_body = Body.of(small, where["finding"]), Body.of(big, where["finding"])

    with Server(ctx, env=env) as server:
        token = server.token("inspector_a")
        sizes = _check(server, token, small_body)
        spec = {
            "token": token,
            "finding": where["finding"],
            "path": str(small.path),
            "size": small.size,
            "sha256": small.sha256,
            "content_type": small.content_type,
            "filename": small.filename,
            "paths": [t.path for t in (FLOOR, API, NAIVE)],
        }
        counted = _helper("queries", _django_env(database_url, env), json.dumps(spec))
        requests = {
            t.path: WrkRequest.write(files, server, t, token, small_body)
            for t in (FLOOR, API, NAIVE)
        }
        measures: dict[str, Measure] = {}
        small_mem: dict[str, Memory] = {}
        big_res: dict[str, PoolResult] = {}
        big_mem: dict[str, Memory] = {}

        def small_load(target: Target) -> None:
            measures[target.path], small_mem[target.path] = _load(
                ctx,
                server,
                target,
                requests[target.path],
                small,
                sizes[target.path],
                counted.get(target.path),
            )

        def big_load(target: Target) -> None:
            big_res[target.path], big_mem[target.path] = _big(server, target, token, big_body)

        # The naive view last: the memory its decodes take stays with the worker processes
        # (allocator caches), and would be counted in the others' peaks.
        for step in (small_load, big_load):
            for target in (FLOOR, API):
                step(target)
        small_load(NAIVE)
        big_load(NAIVE)

    floor = measures[FLOOR.path]
    rows: list[Row | dict] = [Row(NAME, floor, floor)]
    rows += [Row(NAME, measures[t.path], floor) for t in (API, NAIVE)]
    return rows + _figures(big_res, small_mem, big_mem)


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        answer: dict = prepare()
    elif sys.argv[1:] == ["queries"]:
        answer = queries(json.loads(sys.stdin.read()))
    else:
        raise SystemExit("usage: python -m bench.uploads prepare|queries")
    print(json.dumps(answer))
