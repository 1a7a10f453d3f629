"""Audit trail benchmarks: write throughput with sealing on vs the trail off, sealing lag,
verification speed over 1,000,000 events against bare SHA-256 of their canonical bytes.

`run(ctx=None) -> list[dict]` rows `{name, value, unit, floor?, ratio?}`. With a bench
Context it uses the bench database; without, DATABASE_URL as it stands (a scratch database:
it adds a million events that can never be deleted). `python -m bench.audit [events]`.

Writes are measured through the service layer (ORM, one transaction per write, as an API
request makes them), not over HTTP, so the ratio isolates what the trail and the sealer cost.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))
WRITERS = 4
WRITE_SECONDS = float(os.environ.get("BENCH_AUDIT_WRITE_SECONDS", "10"))


def _setup(ctx: object | None) -> None:
    if ctx is not None:
        os.environ["DATABASE_URL"] = ctx.database_url()  # type: ignore[attr-defined]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


def _tables() -> list[str]:
    from django.db import connection

    from audits.trail.verify import audited_tables

    with connection.cursor() as cursor:
        return [table for table, _, _ in audited_tables(cursor)]


def _writes(seconds: float, lags: list[float] | None) -> float:
    """Writes per second from WRITERS threads renaming units, each write its own transaction."""
    from django.db import connection, transaction

    from audits.models import Unit
    from audits.trail import context
    from audits.trail.seal import current_head, seal

    units = list(Unit.objects.values_list("pk", flat=True)[:WRITERS]) or []
    while len(units) < WRITERS:
        n = len(units)
        units.append(
            Unit.objects.create(
                code=f"8{n:011d}", name=f"压测{n}", level="city", path=f"8{n:011d}/"
            ).pk
        )
    stop = time.monotonic() + seconds
    counts = [0] * WRITERS
    committed: list[tuple[int, float]] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        with context.job_context("bench"):
            while time.monotonic() < stop:
                with transaction.atomic():
                    Unit.objects.filter(pk=units[i]).update(name=f"压测{i}-{counts[i]}")
                    if lags is not None:
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT currval('audit_event_seq_seq')")
                            seq = cursor.fetchone()[0]
                if lags is not None:
                    with lock:
                        committed.append((seq, time.monotonic()))
                counts[i] += 1
        connection.close()

    def sealer() -> None:
        pending_from = 0
        while time.monotonic() < stop + 5:
            seal()
            head = current_head()
            now = time.monotonic()
            with lock:
                done = [c for c in committed[pending_from:] if head and c[0] <= head.tree_size]
            for _, at in done:
                lags.append(now - at)  # type: ignore[union-attr]
            pending_from += len(done)
            if time.monotonic() > stop and pending_from >= len(committed):
                break
            time.sleep(0.05)
        connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    if lags is not None:
        threads.append(threading.Thread(target=sealer))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads[:WRITERS]:
        t.join()
    elapsed = time.monotonic() - started
    for t in threads[WRITERS:]:
        t.join()
    return sum(counts) / elapsed


def _write_rows() -> list[dict]:
    from django.db import connection

    from audits.trail.seal import seal

    seal()
    tables = _tables()
    lags: list[float] = []
    with_trail = _writes(WRITE_SECONDS, lags)
    with connection.cursor() as cursor:  # the trail off: capture triggers disabled
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER audit_capture')
    try:
        without = _writes(WRITE_SECONDS, None)
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER audit_capture')
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
    return [
        {"name": "writes/s, trail off (floor)", "value": round(without, 1), "unit": "writes/s"},
        {
            "name": "writes/s, trail on + sealer running",
            "value": round(with_trail, 1),
            "unit": "writes/s",
            "floor": round(without, 1),
            "ratio": round(with_trail / without, 3) if without else None,
        },
        {"name": "sealing lag p99 under that load", "value": round(p99 * 1000, 1), "unit": "ms"},
    ]


def _verify_rows(events: int) -> list[dict]:
    from django.db import connection, transaction

    from audits.trail.seal import seal
    from audits.trail.sql import CANONICAL_EVENT
    from audits.trail.verify import verify

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_event")
        have = cursor.fetchone()[0]
        if have < events:
            cursor.execute(
                "INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type,"
                " object_id, before, after, ip, device_id, request_id) SELECT 1, 'bench',"
                " 'finding.publish', 'update', 'finding', md5(g::text),"
                " jsonb_build_object('status', 'confirmed', 'version', 3),"
                " jsonb_build_object('status', 'published', 'version', 4, 'rectify_by',"
                " '2015-09-30', 'title', '活动场所面积不足 200 平方米 ' || g),"
                " '10.1.2.3', 'pad-' || mod(g, 50), md5((g * 7)::text)"
                " FROM generate_series(1, %s) g",
                [events - have],
            )
    started = time.perf_counter()
    seal()
    seal_seconds = time.perf_counter() - started
    report = verify(objects=False)
    if not report.ok:
        raise RuntimeError(f"verification failed: {report.as_dict()['problems'][:3]}")
    verify_rate = report.checked / report.seconds
    hashing = 0.0
    size = 0
    raw = connection.connection
    with transaction.atomic(), raw.cursor(name="bench_canonical") as cursor:
        cursor.itersize = 5000
        cursor.execute(f"SELECT {CANONICAL_EVENT} FROM audit_event e ORDER BY e.seq")  # noqa: S608
        for (canonical,) in cursor:
            data = b"\x00" + canonical.encode()
            t = time.perf_counter()
            hashlib.sha256(data).digest()
            hashing += time.perf_counter() - t
            size += len(data)
    sha_rate = report.checked / hashing
    return [
        {
            "name": f"sealing {report.checked:,} events",
            "value": round(report.checked / seal_seconds),
            "unit": "events/s",
        },
        {
            "name": "SHA-256 over canonical bytes (floor)",
            "value": round(sha_rate),
            "unit": "events/s",
            "mean_bytes": round(size / max(report.checked, 1)),
        },
        {
            "name": f"verify_audit over {report.checked:,} events",
            "value": round(verify_rate),
            "unit": "events/s",
            "floor": round(sha_rate),
            "ratio": round(verify_rate / sha_rate, 4),
        },
    ]


def run(ctx: object | None = None) -> list[dict]:
    _setup(ctx)
    from audits.trail.context import job_context

    with job_context("bench.audit"):
        rows = _write_rows()
        for row in rows:
            print(row, file=sys.stderr, flush=True)
        return rows + _verify_rows(EVENTS)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        EVENTS = int(sys.argv[1])
    for row in run():
        print(row)
