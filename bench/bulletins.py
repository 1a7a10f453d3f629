"""The bulletin renderer alone (no database, no template): `run(ctx=None) -> list[dict]`.

Renders a prepared `BulletinDocument` (tests/rendering/samples.py) of 200 findings with
40 photos and of 1,000 findings with 100 photos (1600 px JPEG previews, as the photo
worker stores them) to PDF and to DOCX. Each (size, format) runs in its own process so
that its peak RSS is its own: one cold render, then `BENCH_BULLETIN_RUNS` warm ones
(median reported). These are the floor the full compile (selectors + document + render)
is compared with. Goals (issue 12): 200 findings under 3 s warm, 1,000 under 12 s and
400 MiB.

`python -m bench.bulletins` prints the figures as JSON; `make bench BENCH_ARGS="--only
bulletins"` puts them in the table.
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


def run(ctx: object = None) -> list[dict]:  # ctx: bench.harness.Context, unused
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
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        kind, findings, photos = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(measure(kind, findings, photos)))
    else:
        json.dump(run(), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
