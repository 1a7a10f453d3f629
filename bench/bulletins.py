"""Bulletins: the full compile, and the bare renderer as its floor: `run(ctx) -> list[dict]`.

The renderer alone (no database): a prepared `BulletinDocument` (tests/rendering/samples.py)
of 200 findings with 40 photos and of 1,000 findings with 100 photos (1600 px JPEG
previews, as the photo worker stores them) rendered to PDF and to DOCX. Each (size,
format) runs in its own process so that its peak RSS is its own: one cold render, then
`BENCH_BULLETIN_RUNS` warm ones (median reported).

The full compile (`audits.services.bulletins.bulletin_compile`, what the worker runs): in
the bench database (the real-size demo tree), a closed unannounced campaign per size with
as many published findings on as many villages' visits, a third of them overdue, the
responsible village secretaries, and the photos' stored previews; then, each size in its
own process, one cold compile and `BENCH_BULLETIN_RUNS` warm ones: selection (one
REPEATABLE READ transaction), document, PDF, storage, the draft ready (the time reported),
then the Word copy. In the same process the bare renderer renders that same document, the
floor the compile is compared with. Goals (issue 12): 200 findings under 3 s warm, 1,000
under 12 s and 400 MiB, time linear.

`python -m bench.bulletins` prints the renderer's figures as JSON; `make bench
BENCH_ARGS="--only bulletins"` runs both and puts them in the table.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

SIZES = ((200, 40), (1000, 100))
RUNS = int(os.environ.get("BENCH_BULLETIN_RUNS", "3"))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, findings: int, photos: int) -> dict:
    """In this process: render one document `RUNS + 1` times; times, sizes and peak RSS."""
    from tests.rendering.samples import sample_document

    if kind == "pdf":
        from audits.rendering.pdf import render_pdf as render
    else:
        from audits.rendering.docx import render_docx as render
    doc = sample_document(findings, photos)
    before = _rss_mib()  # interpreter, libraries and the document with its photos
    started = time.perf_counter()
    output = render(doc)
    cold = time.perf_counter() - started
    warm, cpu = [], []
    for _ in range(RUNS):
        # A document as the compile builds it: the photos not yet reduced to print size.
        doc = sample_document(findings, photos)
        started, used = time.perf_counter(), time.process_time()
        output = render(doc)
        warm.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return {
        "cold_s": cold,
        "warm_s": statistics.median(warm),
        "cpu_s": statistics.median(cpu),
        "rss_before_mib": before,
        "peak_rss_mib": _rss_mib(),
        "bytes": len(output),
    }


def _child(kind: str, findings: int, photos: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bulletins", "--one", kind, str(findings), str(photos)],
        capture_output=True,
        text=True,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if done.returncode != 0:
        from bench.harness import BenchError

        raise BenchError(f"bulletin {kind} {findings}: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the full compile ---------------------------------------------------------------------


def _world(findings: int, photos: int):
    """A campaign of `findings` published findings, `photos` evidence previews: the bulletin
    row that compiles them (in the bench database, as planner_city)."""
    import random
    import uuid
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction
    from django.utils import timezone

    from audits.choices import FindingStatus, Level, Mode, Severity, Title, VisitStatus
    from audits.models import (
        Bulletin,
        Campaign,
        Checklist,
        Finding,
        Photo,
        PhotoPurpose,
        PhotoStatus,
        Position,
        Team,
        Unit,
        User,
        Visit,
    )
    from audits.photos.storage import derived_name
    from tests.rendering.samples import preview_jpeg

    rng = random.Random(findings)
    today = timezone.localdate()
    city = Unit.objects.get(level=Level.CITY)
    planner = User.objects.get(username="planner_city")
    team = Team.objects.order_by("name").first()
    checklist = Checklist.objects.order_by("title").first()
    items = list(checklist.items.order_by("code"))
    per_visit = 5 if findings <= 200 else 10
    villages = list(Unit.objects.filter(level=Level.VILLAGE).order_by("code"))
    targets = rng.sample(villages, findings // per_visit)
    secretaries = {
        p.unit_id: p.official_id
        for p in Position.objects.held_on(today).filter(
            unit__in=targets, title=Title.PARTY_SECRETARY
        )
    }
    with transaction.atomic():
        campaign = Campaign.objects.create(
            id=uuid.uuid4(),
            title=f"基准测试专题{findings}项（{uuid.uuid4().hex[:6]}）",
            mode=Mode.UNANNOUNCED,
            unit=city,
            starts_on=today - timedelta(days=90),
            ends_on=today - timedelta(days=30),
            checklist=checklist,
            created_by=planner,
        )
        visits = Visit.objects.bulk_create(
            Visit(
                id=uuid.uuid4(),
                campaign=campaign,
                target=target,
                team=team,
                window_start=timezone.now() - timedelta(days=80),
                window_end=timezone.now() - timedelta(days=40),
                status=VisitStatus.CLOSED,
                closed_at=timezone.now() - timedelta(days=40),
                drawn=True,
            )
            for target in targets
        )
        serious = photos // 2
        rows = []
        for n in range(findings):
            visit = visits[n // per_visit]
            overdue, verified = n % 3 == 0, n % 3 == 1
            rows.append(
                Finding(
                    id=uuid.uuid4(),
                    visit=visit,
                    checklist_item=items[n % len(items)],
                    severity=Severity.SERIOUS
                    if n < serious
                    else (Severity.MAJOR if n % 2 else Severity.MINOR),
                    title=f"{items[n % len(items)].category}问题（第{n + 1}项）",
                    description="暗访组随机抽查该单位“三会一课”记录，发现支部委员会会议记录"
                    "连续三个月空白，党员大会记录内容雷同、签名笔迹一致；党员活动室长期上锁。",
                    responsible_unit=visit.target,
                    observed_at=timezone.now() - timedelta(days=60, minutes=n),
                    status=FindingStatus.VERIFIED if verified else FindingStatus.PUBLISHED,
                    rectify_by=today - timedelta(days=10)
                    if overdue
                    else today + timedelta(days=30),
                    published_at=timezone.now() - timedelta(days=39),
                    created_by=team.lead,
                )
            )
        Finding.objects.bulk_create(rows)
        through = Finding.responsible_officials.through
        through.objects.bulk_create(
            through(finding_id=f.pk, official_id=secretaries[f.responsible_unit_id])
            for f in rows
            if f.responsible_unit_id in secretaries
        )
        evidence = []
        for k in range(photos):
            finding = rows[k // 2]
            data = preview_jpeg(k + 1)
            digest = f"{findings:04d}{k:060d}"
            name = derived_name(digest, "preview")
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(data))
            evidence.append(
                Photo(
                    id=uuid.uuid4(),
                    finding=finding,
                    visit=finding.visit,
                    uploaded_by=team.lead,
                    purpose=PhotoPurpose.EVIDENCE,
                    sha256=digest,
                    size=len(data),
                    content_type="image/jpeg",
                    original=f"originals/bench/{digest}",
                    preview=name,
                    status=PhotoStatus.READY,
                )
            )
        Photo.objects.bulk_create(evidence)
        bulletin = Bulletin.objects.create(
            issuer=city,
            unit=city,
            campaign=campaign,
            period_start=campaign.starts_on,
            period_end=campaign.ends_on,
            title=f"关于基准测试专题（{findings}项）督查情况的通报",
            requested_by=planner,
            stage="queued",
        )
    return bulletin


def prepare(findings: int, photos: int) -> dict:
    """In this process: the world of one size, in the bench database; its bulletin's id."""
    import django

    django.setup()
    return {"bulletin": str(_world(findings, photos).pk)}


def measure_compile(bulletin_id: str) -> dict:
    """In this process: compile the bulletin `RUNS + 1` times, then render the floor."""
    import django

    django.setup()
    from audits import clock
    from audits.models import Bulletin
    from audits.rendering.pdf import render_pdf
    from audits.services import bulletins

    bulletin = Bulletin.objects.get(pk=bulletin_id)
    before = _rss_mib()
    # The draft is ready when the compile finishes it (then it renders the Word copy):
    # the time to there, wall and CPU, is read as the compile enters `_finish`.
    finishing = bulletins._finish
    marks: dict[str, float] = {}

    def timed_finish(*args, **kwargs):
        marks["wall"], marks["cpu"] = time.perf_counter(), time.process_time()
        return finishing(*args, **kwargs)

    bulletins._finish = timed_finish

    def compile_once() -> dict:
        Bulletin.objects.filter(pk=bulletin.pk).update(
            status="compiling", content=None, pdf="", docx=""
        )
        wall, cpu = time.perf_counter(), time.process_time()
        result = bulletins.bulletin_compile(bulletin_id=bulletin.pk)
        whole = time.perf_counter() - wall
        row = Bulletin.objects.get(pk=bulletin.pk)
        if result != "draft" or not row.docx:
            raise RuntimeError(f"compile ended {result}: {row.error}")
        selecting = time.perf_counter()
        bulletins._select(row)
        return {
            "wall": marks["wall"] - wall,
            "cpu": marks["cpu"] - cpu,
            "whole": whole,
            "select": time.perf_counter() - selecting,
        }

    def floor_once() -> dict:
        row = Bulletin.objects.get(pk=bulletin.pk)
        doc = bulletins.document(row, row.content, issued_on=clock.today())
        wall, cpu = time.perf_counter(), time.process_time()
        render_pdf(doc)
        return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}

    cold = compile_once()
    warm, floors = [], []
    for _ in range(RUNS):  # interleaved: the machine's load weighs on both alike
        warm.append(compile_once())
        floors.append(floor_once())

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    row = Bulletin.objects.get(pk=bulletin.pk)
    content = row.content
    return {
        "cold_s": cold["wall"],
        "warm_s": median(warm, "wall"),
        "warm_cpu_s": median(warm, "cpu"),
        "with_docx_s": median(warm, "whole"),
        "select_s": median(warm, "select"),
        "floor_s": median(floors, "wall"),
        "floor_cpu_s": median(floors, "cpu"),
        "rss_before_mib": before,
        "peak_rss_mib": _rss_mib(),
        "findings": content["overview"]["findings_total"],
        "cases": len(content["cases"]),
        "photos": sum(len(c["photos"]) for c in content["cases"]),
        "overdue": len(content["rectification"]["overdue_items"]),
    }


def _django_child(ctx, media: str, *args: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "DATABASE_URL": ctx.database_url(),
        "MEDIA_ROOT": media,
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.bulletins", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if done.returncode != 0:
        from bench.harness import BenchError

        raise BenchError(f"bulletins {' '.join(args)}: {done.stderr.strip()[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compile_child(ctx, findings: int, photos: int) -> dict:
    """The world built in one process, compiled in another: the compile's RSS is its own."""
    import tempfile

    media = tempfile.mkdtemp(prefix="bulletin-bench-", dir=str(ctx.workdir))
    made = _django_child(ctx, media, "--prepare", str(findings), str(photos))
    return _django_child(ctx, media, "--compile", made["bulletin"])


def compile_rows(ctx) -> list[dict]:
    rows, warm = [], {}
    for findings, photos in SIZES:
        m = _compile_child(ctx, findings, photos)
        if (m["findings"], m["photos"]) != (findings, photos):
            from bench.harness import BenchError

            raise BenchError(f"the compile read {m['findings']} findings, {m['photos']} photos")
        warm[findings] = m["warm_s"]
        name = f"bulletin compile ({findings} findings, {photos} photos)"
        rows += [
            {
                "name": f"{name}: to the draft (select + document + PDF + store), warm",
                "value": round(m["warm_s"], 2),
                "unit": "s",
                "floor": round(m["floor_s"], 2),
                "ratio": round(m["warm_s"] / m["floor_s"], 2),
            },
            {
                "name": f"{name}: to the draft, warm CPU",
                "value": round(m["warm_cpu_s"], 2),
                "unit": "s",
                "floor": round(m["floor_cpu_s"], 2),
                "ratio": round(m["warm_cpu_s"] / m["floor_cpu_s"], 2),
            },
            {"name": f"{name}: to the draft, cold", "value": round(m["cold_s"], 2), "unit": "s"},
            {"name": f"{name}: selection alone", "value": round(m["select_s"], 3), "unit": "s"},
            {
                "name": f"{name}: beyond the renderer (database, document, storage), CPU",
                "value": round(100 * (m["warm_cpu_s"] - m["floor_cpu_s"]) / m["warm_cpu_s"], 1),
                "unit": "%",
            },
            {
                "name": f"{name}: with the Word copy (the whole task), warm",
                "value": round(m["with_docx_s"], 2),
                "unit": "s",
            },
            {
                "name": f"{name}: peak RSS",
                "value": round(m["peak_rss_mib"]),
                "unit": "MiB",
                "floor": round(m["rss_before_mib"]),
            },
        ]
    (small, _), (large, _) = SIZES
    rows.append(
        {
            "name": f"bulletin compile, time {large} ÷ {small} findings (linear: "
            f"{large / small:.0f})",
            "value": round(warm[large] / warm[small], 2),
            "unit": "×",
        }
    )
    return rows


def run(ctx=None) -> list[dict]:  # ctx: bench.harness.Context (the compile needs its database)
    rows = []
    warm_pdf = {}
    for findings, photos in SIZES:
        label = f"{findings} findings, {photos} photos"
        for kind in ("pdf", "docx"):
            m = _child(kind, findings, photos)
            name = f"bulletin render {kind.upper()} ({label})"
            if kind == "pdf":
                warm_pdf[findings] = m["warm_s"]
            rows += [
                {"name": f"{name}, warm", "value": round(m["warm_s"], 2), "unit": "s"},
                {"name": f"{name}, warm CPU", "value": round(m["cpu_s"], 2), "unit": "s"},
                {"name": f"{name}, cold", "value": round(m["cold_s"], 2), "unit": "s"},
                {
                    "name": f"{name}, peak RSS",
                    "value": round(m["peak_rss_mib"]),
                    "unit": "MiB",
                    "floor": round(m["rss_before_mib"]),
                },
                {"name": f"{name}, size", "value": round(m["bytes"] / 2**20, 1), "unit": "MiB"},
            ]
    (small, _), (large, _) = SIZES
    rows.append(
        {
            "name": f"bulletin render PDF, time {large} ÷ {small} findings (linear: "
            f"{large / small:.0f})",
            "value": round(warm_pdf[large] / warm_pdf[small], 2),
            "unit": "×",
        }
    )
    if ctx is not None:
        rows += compile_rows(ctx)
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        print(json.dumps(prepare(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1:2] == ["--compile"]:
        print(json.dumps(measure_compile(sys.argv[2])))
    elif sys.argv[1:2] == ["--one"]:
        kind, findings, photos = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(measure(kind, findings, photos)))
    else:
        json.dump(run(), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
