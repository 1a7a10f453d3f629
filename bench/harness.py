"""What every benchmark shares: the bench database, a gunicorn server, wrk, and the rows.

Nothing here writes into the repository; `python -m bench --record` is the only writer.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE", "duchaa_bench")  # one per concurrent run
DEMO_PASSWORD_DEFAULT = "demo-pass-2015"  # noqa: S105 - the documented demo default


class BenchError(Exception):
    """Something that stops the run; printed as one line."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- rows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One target under load: wrk's figures for the measured (not the warm-up) run."""

    target: str  # e.g. "GET /api/v1/me"
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    body_bytes: int | None = None  # size of one response body
    queries: int | None = None  # SQL queries Django runs for one request
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU ms per request, by process
    busy: float | None = None  # share of the machine's CPU time in use during the run, %
    warmup_requests: int = 0  # answered in the warm-up run (not counted in the figures)


@dataclass(frozen=True)
class Row:
    """A measured target and the floor it is compared with (same server, same run)."""

    benchmark: str
    measure: Measure
    floor: Measure

    @property
    def is_floor(self) -> bool:
        return self.measure is self.floor

    @property
    def slowdown(self) -> float:
        """Floor req/s ÷ target req/s: how many floor requests cost as much as one of these."""
        return self.floor.rps / self.measure.rps if self.measure.rps else float("inf")

    @property
    def share(self) -> float:
        """Target req/s as a percentage of the floor's req/s."""
        return 100.0 * self.measure.rps / self.floor.rps if self.floor.rps else 0.0


# --- options and the run's context ---------------------------------------------------------


@dataclass(frozen=True)
class Options:
    seconds: int = 15  # measured wrk run per target
    warmup: int = 3  # unrecorded wrk run per target before it
    connections: int = 16  # concurrent clients (wrk -c)
    wrk_threads: int = 2  # wrk -t
    workers: int = 4  # gunicorn -w
    worker_class: str = "sync"  # gunicorn -k
    threads: int = 1  # gunicorn --threads (gthread only)
    keep: bool = False  # leave the bench database behind

    def gunicorn_label(self) -> str:
        label = f"gunicorn -w {self.workers} -k {self.worker_class}"
        if self.worker_class == "gthread":
            label += f" --threads {self.threads}"
        return label

    def wrk_label(self) -> str:
        return f"wrk -t{self.wrk_threads} -c{self.connections} -d{self.seconds}s"


@dataclass
class Context:
    """Handed to every benchmark's `run`: the options and the (lazily built) bench database."""

    options: Options
    base_database_url: str
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="duchaa-bench-")))
    _database: Database | None = None

    def database_url(self) -> str:
        """The bench database, dropped, recreated, migrated and seeded at full scale once."""
        if self._database is None:
            database = Database(self.base_database_url)
            self._database = database
            database.recreate()
            database.prepare()
        return self._database.url

    def close(self) -> None:
        if self._database is not None:
            if self.options.keep:
                log(f"kept database {BENCH_DB}: DATABASE_URL={self._database.url}")
            else:
                self._database.drop()
        shutil.rmtree(self.workdir, ignore_errors=True)


# --- the bench database --------------------------------------------------------------------


def with_dbname(url: str, name: str) -> str:
    """The same server, credentials and options, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _libpq(url: str) -> str:
    # libpq reads postgres:// and postgresql://; dj-database-url also accepts aliases.
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


class Database:
    def __init__(self, base_url: str, name: str = BENCH_DB) -> None:
        self.name = name
        self.url = with_dbname(base_url, name)
        self.maintenance_url = with_dbname(base_url, "postgres")

    def _admin(self, statement: str) -> None:
        import psycopg
        from psycopg import sql

        try:
            with psycopg.connect(_libpq(self.maintenance_url), autocommit=True) as conn:
                conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))
        except psycopg.Error as exc:
            raise BenchError(f"{statement.format(self.name)} failed: {exc}".strip()) from exc

    def recreate(self) -> None:
        log(f"recreating database {self.name}")
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin("CREATE DATABASE {}")

    def drop(self) -> None:
        log(f"dropping database {self.name}")
        try:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        except BenchError as exc:
            log(f"could not drop it: {exc}")

    def prepare(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, "DJANGO_SETTINGS_MODULE": "server.settings"}
        for step in (["migrate", "--noinput"], ["seed_demo", "--scale", "full"]):
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
            )
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
                raise BenchError(f"manage.py {' '.join(step)} failed:\n" + "\n".join(tail))
            log(f"manage.py {' '.join(step)}: {time.monotonic() - started:.1f} s")


# --- gunicorn ------------------------------------------------------------------------------


class Server:
    """gunicorn serving `settings` on a free loopback port, stopped on exit whatever happens."""

    def __init__(
        self,
        ctx: Context,
        *,
        settings: str = "bench.settings",
        ready_path: str = "/bench/floor",
        env: dict[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.ready_path = ready_path
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log_path = ctx.workdir / "gunicorn.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings,
            "DATABASE_URL": self.ctx.database_url(),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # Longer than a run (the default is 60 s): a backend that ends mid-run takes its
            # CPU time with it, which /proc can no longer show.
            "DB_CONN_MAX_AGE": "3600",
            "JWT_ACCESS_MINUTES": "120",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "THROTTLE_AUTH_IP": "1000000/min",
            "THROTTLE_AUTH_USERNAME": "1000000/min",
            "THROTTLE_AUTH_USERNAME_GLOBAL": "1000000/min",
            # Throttle counters of this run only, apart from the app's own keys.
            "CACHE_KEY_PREFIX": f"duchaa-bench-{os.getpid()}",
            **self.extra_env,
        }

    def __enter__(self) -> Server:
        env = self.environment()
        opts = self.ctx.options
        # Bound here and handed over as fd://: the port is free and no one can take it first.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        self.port = listener.getsockname()[1]
        fd = listener.fileno()
        os.set_inheritable(fd, True)
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "server.wsgi",
            "--bind",
            f"fd://{fd}",
            "--workers",
            str(opts.workers),
            "--worker-class",
            opts.worker_class,
            "--threads",
            str(opts.threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        log(f"starting {opts.gunicorn_label()} on 127.0.0.1:{self.port}")
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                pass_fds=(fd,),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        listener.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.tail()}")
            try:
                status, _ = fetch("GET", self.base + self.ready_path, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(
            f"gunicorn did not answer {self.ready_path} in {timeout:.0f} s:\n{self.tail()}"
        )

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, workers included
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no gunicorn log)"

    def token(self, username: str = "planner_city") -> str:
        """An access token for a demo account, through the API's own sign-in."""
        password = os.environ.get("DEMO_PASSWORD", DEMO_PASSWORD_DEFAULT)
        body = {"username": username, "password": password, "device_id": "bench"}
        status, data = fetch("POST", self.base + "/api/v1/auth/token", body=body)
        if status != 200:
            raise BenchError(f"sign-in as {username} answered {status}: {data[:300]!r}")
        return json.loads(data)["access"]


def fetch(
    method: str,
    url: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """One plain request: (status, body), error statuses included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url, data=data, method=method, headers=dict(headers or {})
    )
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- wrk -----------------------------------------------------------------------------------

# wrk calls `done` once at the end; exact figures (microseconds) beat parsing its text.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"bytes\\": %d, " ..
    "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"status\\": %d, \\"timeout\\": %d, " ..
    "\\"p50_us\\": %d, \\"p99_us\\": %d, \\"max_us\\": %d}\\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: as root run `apt-get install -y wrk`")
    return path


def wrk_version() -> str:
    done = subprocess.run([require_wrk(), "-v"], capture_output=True, text=True)
    first = (done.stdout + done.stderr).strip().splitlines()
    return first[0].split("Copyright")[0].strip() if first else "wrk"


def wrk(
    ctx: Context,
    url: str,
    *,
    seconds: int,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> dict:
    """Load `url` with `connections` clients for `seconds`; wrk's own summary as a dict.

    `script`: a Lua file of the caller's that ends with WRK_SCRIPT (e.g. one that builds
    each request); by default only WRK_SCRIPT, which reports the summary.
    """
    if script is None:
        script = ctx.workdir / "done.lua"
        if not script.exists():
            script.write_text(WRK_SCRIPT)
    opts = ctx.options
    cmd = [
        require_wrk(),
        f"-t{opts.wrk_threads}",
        f"-c{opts.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise BenchError(
        f"wrk printed no summary (exit {done.returncode}):\n{done.stdout}{done.stderr}".strip()
    )


def measure(
    ctx: Context,
    server: Server,
    target: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body_bytes: int | None = None,
    queries: int | None = None,
    script: Callable[[], str] | None = None,
) -> Measure:
    """Warm up, then measure `path` on `server`; `target` is the row's label.

    `script` makes the Lua file of one wrk run (see `wrk`), called for each run, so that
    a script that makes new ids can make them afresh for the measured run.
    """
    opts = ctx.options
    url = server.base + path
    warmed = 0
    if opts.warmup > 0:
        warmed = wrk(
            ctx, url, seconds=opts.warmup, headers=headers, script=script() if script else None
        )["requests"]
    log(f"measuring {target} for {opts.seconds} s")
    server_pid = server.process.pid if server.process else None
    before = CpuSnapshot.take(server_pid, BENCH_DB)
    result = wrk(
        ctx, url, seconds=opts.seconds, headers=headers, script=script() if script else None
    )
    after = CpuSnapshot.take(server_pid, BENCH_DB)
    cpu_ms, busy = after.per_request(before, result["requests"])
    errors = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    seconds = result["duration_us"] / 1e6
    return Measure(
        target=target,
        rps=result["requests"] / seconds if seconds else 0.0,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        requests=result["requests"],
        errors=errors,
        body_bytes=body_bytes,
        queries=queries,
        cpu_ms=cpu_ms,
        busy=busy,
        warmup_requests=warmed,
    )


# --- CPU time by process --------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")
CPU_GROUPS = ("app", "postgres", "redis", "wrk")


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(command name, parent pid, CPU ticks so far) of a process, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    # After the command: state ppid ... utime (12th) stime (13th).
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return []


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuSnapshot:
    """CPU ticks per process of the app server (gunicorn and its workers), the PostgreSQL
    backends serving the bench database (their title names it), Redis, and wrk."""

    ticks: dict[int, tuple[str, int]]  # pid → (group, ticks)
    wrk: int
    machine: tuple[int, int]

    @classmethod
    def take(cls, server_pid: int | None, dbname: str) -> CpuSnapshot:
        ticks = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or (found := _stat(entry.name)) is None:
                continue
            comm, ppid, used = found
            pid = int(entry.name)
            if server_pid is not None and server_pid in (pid, ppid):
                ticks[pid] = ("app", used)
            elif comm == "postgres" and dbname in _cmdline(pid):
                ticks[pid] = ("postgres", used)
            elif comm.startswith("redis-server"):
                ticks[pid] = ("redis", used)
        # wrk has exited by the second snapshot: it counts among our reaped children.
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk = round((children.ru_utime + children.ru_stime) * CLK_TCK)
        return cls(ticks, wrk, _machine_ticks())

    def per_request(self, before: CpuSnapshot, requests: int) -> tuple[dict[str, float], float]:
        """CPU ms per request by group, and how busy the machine was (%). A process that
        ended in between is not counted; one that started counts from zero."""
        used = dict.fromkeys(CPU_GROUPS, 0)
        for pid, (group, ticks) in self.ticks.items():
            earlier = before.ticks.get(pid)
            used[group] += ticks - (earlier[1] if earlier and earlier[0] == group else 0)
        used["wrk"] = self.wrk - before.wrk
        ms = (
            {group: used[group] * 1000 / CLK_TCK / requests for group in CPU_GROUPS}
            if requests
            else {}
        )
        busy = self.machine[0] - before.machine[0]
        total = self.machine[1] - before.machine[1]
        return ms, (100.0 * busy / total if total else 0.0)


# --- queries per request -------------------------------------------------------------------


def count_queries(ctx: Context, paths: list[str], token: str) -> dict[str, int]:
    """SQL queries Django runs for one request to each path (bench/queries.py, own process)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": ctx.database_url(),
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "JWT_ACCESS_MINUTES": "120",
        "CACHE_KEY_PREFIX": f"duchaa-bench-{os.getpid()}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.queries", *paths],
        cwd=ROOT,
        env=env,
        input=token,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        log(f"could not count queries: {(done.stderr or done.stdout).strip()[-500:]}")
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])
