#!/usr/bin/env python3
"""`make run`: servers, migrations and demo data, then gunicorn, a Celery worker and beat.

Ctrl-C or SIGTERM stops the three and the private PostgreSQL/Redis of this checkout. If any of
the three exits on its own, the others are stopped too: a half-running stack hides errors.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import services

BIN = Path(sys.executable).parent
# What the bulletin renderer needs from Debian (audits/rendering/fonts.py, DEBIAN_PACKAGES):
# WeasyPrint's Pango, HarfBuzz's subsetter (7× slower without it) and the CJK fonts.
RENDERING_PACKAGES = [
    "fonts-noto-cjk",
    "fonts-hanazono",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
]
GRACE_SECONDS = 30  # a Celery task in flight gets this long; acks_late redelivers it after


class Stop(Exception):
    """A signal asked us to stop."""


stopping = False


def on_signal(signum: int, _frame) -> None:
    global stopping
    if stopping:
        return  # already shutting down; a second Ctrl-C must not cut the cleanup short
    stopping = True
    raise Stop(signal.Signals(signum).name)


def die_with_us() -> None:
    # PR_SET_PDEATHSIG: if this supervisor is killed outright (SIGKILL, OOM), the kernel still
    # sends each child SIGTERM, so no gunicorn or Celery outlives it on a port or a queue.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only us, so we decide the order, and killpg() catches every
    # gunicorn worker and Celery pool process even if the parent dies first.
    return subprocess.Popen(
        argv,
        cwd=services.ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_us,
    )


def terminate(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the parent only: each shuts its own children down
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            services.log(f"pid {proc.pid} ignored SIGTERM for {GRACE_SECONDS}s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of that process group
        proc.wait()


def wait_for_port(port: int, procs: list[subprocess.Popen]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and all(proc.poll() is None for proc in procs):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def banner(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    password = (
        "the DEMO_PASSWORD you set"
        if os.environ.get("DEMO_PASSWORD")
        else "demo-pass-2015 (set DEMO_PASSWORD to change it)"
    )
    print(
        f"""
Duchá is running:
  site      {base}/
  API docs  {base}/api/docs/
  log in    {base}/accounts/login/
  demo accounts: listed by seed_demo above; password: {password}
Ctrl-C stops the web server, the worker, beat and the private PostgreSQL/Redis.
""",
        flush=True,
    )


def main() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    homes: list[Path] = []
    procs: list[subprocess.Popen] = []
    code = 0
    try:
        services.install_packages(RENDERING_PACKAGES)
        env = {**os.environ, **services.ensure("run", homes)}
        port = int(os.environ.get("PORT") or 8000)
        manage = [str(BIN / "python"), "manage.py"]
        for step in (["migrate", "--noinput"], ["seed_demo"]):
            subprocess.run(manage + step, cwd=services.ROOT, env=env, check=True)
        schedule = services.VAR / "celerybeat-schedule"
        procs = [
            spawn(
                [str(BIN / "gunicorn"), "server.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"], env
            ),
            spawn(
                [str(BIN / "celery"), "-A", "server", "worker", "-l", "info", "--concurrency", "2"],
                env,
            ),
            spawn(
                [str(BIN / "celery"), "-A", "server", "beat", "-l", "info", "-s", str(schedule)],
                env,
            ),
        ]
        if wait_for_port(port, procs):
            banner(port)
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        dead = next(proc for proc in procs if proc.poll() is not None)
        services.log(
            f"{' '.join(map(str, dead.args[:4]))} exited with {dead.returncode}; stopping the rest"
        )
        code = 1
    except Stop as stop:
        services.log(f"{stop}: stopping")
    except subprocess.CalledProcessError as failed:
        services.log(f"{' '.join(failed.cmd[1:3])} failed with exit code {failed.returncode}")
        code = 1
    except services.Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        code = 1
    finally:
        global stopping
        stopping = True
        terminate(procs)
        services.stop(homes)
    return code


if __name__ == "__main__":
    sys.exit(main())
