"""`python -m bench [--seconds N] [--record] [--keep] ...`: run the benchmarks, print figures.

Needs DATABASE_URL (a role with CREATEDB: the run builds its own database `duchaa_bench`),
REDIS_URL and SECRET_KEY, as `make bench` provides, and wrk. Writes nothing into the
repository unless given --record, which replaces the figures in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata

from bench.harness import (
    CPU_GROUPS,
    ROOT,
    BenchError,
    Context,
    Options,
    Row,
    log,
    require_wrk,
    wrk_version,
)

# Every benchmark module: `run(ctx) -> list[Row | dict]`. A Row is a wrk-measured target
# against its floor; a dict is any other figure: {name, value, unit, floor?, ratio?}.
# bench.uploads adds photos to the shared bench database: keep it last.
BENCHMARKS = (
    "bench.api_read",
    "bench.audit",
    "bench.photos",
    "bench.bulletins",
    "bench.field",
    "bench.uploads",
)

DOC = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- bench:figures:start -->", "<!-- bench:figures:end -->"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    defaults = Options()
    parser.add_argument(
        "--seconds",
        type=int,
        default=defaults.seconds,
        help="measured seconds per target (default %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=defaults.warmup,
        help="unrecorded warm-up seconds per target (default %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=defaults.connections,
        help="concurrent clients (default %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="gunicorn workers (default %(default)s)",
    )
    parser.add_argument(
        "--worker-class",
        default=defaults.worker_class,
        choices=("sync", "gthread"),
        help="gunicorn worker class",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=defaults.threads,
        help="threads per gthread worker (default %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark module (e.g. api_read); repeatable",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the database duchaa_bench behind"
    )
    parser.add_argument(
        "--record", action="store_true", help=f"write the figures into {DOC.relative_to(ROOT)}"
    )
    return parser.parse_args(argv)


# --- the machine and the software ----------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def machine() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return (
        f"{cpus} CPUs (nproc), {model}, {kib / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}"
    )


def software() -> str:
    parts = [f"Python {platform.python_version()}"]
    for dist in (
        "Django",
        "djangorestframework",
        "djangorestframework-simplejwt",
        "gunicorn",
        "psycopg",
    ):
        with contextlib.suppress(metadata.PackageNotFoundError):
            parts.append(f"{dist} {metadata.version(dist)}")
    try:
        import psycopg

        from bench.harness import _libpq

        with psycopg.connect(_libpq(os.environ["DATABASE_URL"])) as conn:
            parts.append(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}")
    except Exception as exc:  # a missing version must not lose the figures
        log(f"PostgreSQL version unknown: {exc}")
    try:
        import redis

        info = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")
        parts.append(f"Redis {info['redis_version']}")
    except Exception as exc:
        log(f"Redis version unknown: {exc}")
    parts.append(wrk_version())
    return ", ".join(parts)


def revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted changes" if git("status", "--porcelain") else "")


def command(argv: list[str]) -> str:
    args = shlex.join(argv)
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" BENCH_ARGS={shlex.quote(args)}" if args else "")
    return ".venv/bin/python -m bench" + (f" {args}" if args else "")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- output --------------------------------------------------------------------------------


# Each table: a title, its headers (the first two columns are text) and a row → cells function.
def figures(row: Row) -> tuple[str, ...]:
    m = row.measure
    return (
        row.benchmark,
        m.target,
        f"{m.rps:,.0f}",
        f"{m.p50_ms:.1f}",
        f"{m.p99_ms:.1f}",
        f"{row.slowdown:.2f}×",
        f"{row.share:.0f} %",
        "–" if m.queries is None else str(m.queries),
        "–" if m.body_bytes is None else f"{m.body_bytes:,}",
        str(m.errors),
    )


def cpu(row: Row) -> tuple[str, ...]:
    m = row.measure
    groups = tuple(f"{m.cpu_ms[g]:.2f}" if g in m.cpu_ms else "–" for g in CPU_GROUPS)
    total = f"{sum(m.cpu_ms.values()):.2f}" if m.cpu_ms else "–"
    busy = "–" if m.busy is None else f"{m.busy:.0f} %"
    return (row.benchmark, m.target, *groups, total, busy)


TABLES = (
    (
        "Throughput and latency",
        (
            "benchmark",
            "target",
            "req/s",
            "p50 ms",
            "p99 ms",
            "floor ÷ target",
            "% of floor",
            "queries",
            "body B",
            "errors",
        ),
        figures,
    ),
    (
        "CPU time per request (ms), by process, during the measured run",
        ("benchmark", "target", *CPU_GROUPS, "total", "machine busy"),
        cpu,
    ),
)


def text_table(headers: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    table = [headers, *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]

    def fmt(line: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if i >= 2 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(headers), rule, *(fmt(line) for line in lines)])


def markdown_table(headers: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    align = ["---", "---"] + ["---:"] * (len(headers) - 2)
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    for line in lines:
        values = list(line)
        if values[1].startswith("GET "):
            values[1] = f"`{values[1]}`"
        out.append("| " + " | ".join(values) + " |")
    return "\n".join(out)


def render(rows: list[Row], *, markdown: bool = False) -> str:
    parts = []
    for title, headers, cells in TABLES:
        lines = [cells(row) for row in rows]
        if markdown:
            parts.append(f"{title}:\n\n{markdown_table(headers, lines)}")
        else:
            parts.append(f"{title}:\n{text_table(headers, lines)}")
    return "\n\n".join(parts)


OTHER_HEADERS = ("benchmark", "figure", "value", "unit", "floor", "ratio")


def other(benchmark: str, figure: dict) -> tuple[str, ...]:
    def num(value: object) -> str:
        if value is None:
            return "–"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"

    return (
        benchmark,
        str(figure["name"]),
        num(figure["value"]),
        str(figure["unit"]),
        num(figure.get("floor")),
        num(figure.get("ratio")),
    )


def render_other(lines: list[tuple[str, ...]], *, markdown: bool = False) -> str:
    title = "Other figures (floor and ratio as each benchmark defines them)"
    if markdown:
        return f"{title}:\n\n{markdown_table(OTHER_HEADERS, lines)}"
    return f"{title}:\n{text_table(OTHER_HEADERS, lines)}"


def record(block: str) -> None:
    if not DOC.exists():
        raise BenchError(f"{DOC.relative_to(ROOT)} does not exist: nothing to record into")
    text = DOC.read_text()
    if START not in text or END not in text or text.index(START) > text.index(END):
        raise BenchError(f"{DOC.relative_to(ROOT)} lacks the markers {START} … {END}")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{block}\n{END}{tail}")
    log(f"figures written into {DOC.relative_to(ROOT)}")


# --- main ----------------------------------------------------------------------------------


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that every `finally` stops its server and the database goes


def main(argv: list[str]) -> int:
    args = parse(argv)
    started = time.monotonic()
    missing = [
        name for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY") if not os.environ.get(name)
    ]
    if missing:
        raise BenchError(f"{', '.join(missing)} not set: run `make bench`, or export them")
    require_wrk()
    selected = [name for name in BENCHMARKS if not args.only or name.rsplit(".", 1)[1] in args.only]
    if not selected:
        raise BenchError(
            f"no benchmark named {', '.join(args.only)}; there are: "
            + ", ".join(name.rsplit(".", 1)[1] for name in BENCHMARKS)
        )
    options = Options(
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        keep=args.keep,
    )
    signal.signal(signal.SIGTERM, _terminate)
    load_before = load_average()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ctx = Context(options, base_database_url=os.environ["DATABASE_URL"])
    rows: list[Row] = []
    others: list[tuple[str, ...]] = []
    try:
        for name in selected:
            for result in importlib.import_module(name).run(ctx):
                if isinstance(result, Row):
                    rows.append(result)
                else:
                    others.append(other(name.rsplit(".", 1)[1], result))
    finally:
        ctx.close()
    elapsed = time.monotonic() - started

    about = [
        f"Recorded {when}, commit {revision()}.",
        f"- Machine: {machine()}",
        f"- Software: {software()}",
        f"- Server: {options.gunicorn_label()}, DEBUG=0, same host as PostgreSQL, Redis and wrk",
        f"- Load: {options.wrk_label()} per target after a {options.warmup} s warm-up; "
        f"load average before the run: {load_before}",
        f"- Command: `{command(argv)}`, {elapsed:.0f} s end to end",
        "- Ratio: floor ÷ target = floor req/s ÷ target req/s; % of floor = its inverse",
    ]
    print()
    print("\n".join(about))
    print()
    block = render(rows) if rows else ""
    md = render(rows, markdown=True) if rows else ""
    if others:
        block += ("\n\n" if block else "") + render_other(others)
        md += ("\n\n" if md else "") + render_other(others, markdown=True)
    print(block)
    errors = sum(row.measure.errors for row in rows)
    if errors:
        log(f"{errors} failed requests under load: these figures are not valid")
        return 1
    if args.record:
        record("\n".join(about) + "\n\n" + md)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as failure:
        print(f"bench: {failure}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
