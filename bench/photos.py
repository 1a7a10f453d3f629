"""Photo processing throughput: `run(ctx=None) -> list[dict]`; one process, no server.

Figures (per worker process, photos per second, ~3.8 MB 12-megapixel camera JPEGs):

- `audits.photos.processing.analyse`: what the worker does to one photo (EXIF, orientation,
  reduced-scale decode with `Image.draft`, preview 1600 px, thumbnail 320 px, dHash,
  two metadata-free JPEGs written to disk);
- the limit: plain Pillow doing the same thumbnail + preview with `Image.draft()` and
  nothing else;
- a naive in-request approach (what a DRF `ImageField` + thumbnail in the view does):
  full-size decode, `verify()` + reopen, thumbnail + preview from the full image.

Upload throughput under 8 clients and web-worker RSS with 50 MB uploads are measured by
bench/uploads.py, on the bench server (docs/BENCHMARKS.md, "Uploads").
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time

SIDE = (4000, 3000)
PHOTOS = int(os.environ.get("BENCH_PHOTOS", "12"))


def _camera_jpeg(seed: int) -> bytes:
    from PIL import Image, ImageChops

    from tests.photos.make_corpus import exif_bytes, noise

    base = noise(seed, SIDE)
    grain = Image.effect_noise(SIDE, 12).convert("RGB")
    picture = ImageChops.add(base, grain, scale=1.0, offset=-100)
    out = io.BytesIO()
    picture.save(
        out,
        "JPEG",
        quality=85,
        exif=exif_bytes(taken="2015:06:01 10:00:00", gps=(33.64, 116.98), orientation=6),
    )
    return out.getvalue()


def _rate(fn, paths: list[str]) -> tuple[float, float]:
    """(photos per second, p99 seconds per photo) over all paths, after one warm-up."""
    fn(paths[0])
    times = []
    for path in paths:
        started = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - started)
    p99 = statistics.quantiles(times, n=100)[98] if len(times) > 1 else times[0]
    return len(times) / sum(times), p99


def _pillow_draft(path: str) -> None:
    from PIL import Image

    with Image.open(path) as im:
        im.thumbnail((1600, 1600))  # Image.draft() inside: a reduced-scale decode
        thumb = im.copy()
        thumb.thumbnail((320, 320))
        for image in (im, thumb):
            image.save(io.BytesIO(), "JPEG", quality=85)


def _naive(path: str) -> None:
    from PIL import Image

    with Image.open(path) as im:  # ImageField.to_python: open + verify, then reopen
        im.verify()
    with Image.open(path) as im:
        full = im.convert("RGB")
    for side in (1600, 320):
        copy = full.copy()
        copy.thumbnail((side, side))
        copy.save(io.BytesIO(), "JPEG", quality=85)


def run(ctx: object = None) -> list[dict]:  # ctx: bench.harness.Context, unused
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from django.conf import settings

    from audits.photos import processing

    with tempfile.TemporaryDirectory() as tmp:
        settings.MEDIA_ROOT = tmp
        paths = []
        for seed in range(PHOTOS):
            path = os.path.join(tmp, f"photo-{seed}.jpg")
            with open(path, "wb") as handle:
                handle.write(_camera_jpeg(seed))
            paths.append(path)
        size_mb = statistics.mean(os.path.getsize(p) for p in paths) / 1e6

        def ours(path: str) -> None:
            processing.analyse(path, "image/jpeg").discard()

        limit, limit_p99 = _rate(_pillow_draft, paths)
        mine, mine_p99 = _rate(ours, paths)
        naive, naive_p99 = _rate(_naive, paths)
    rows = [
        {
            "name": f"photo processing, plain Pillow + draft (limit; {size_mb:.1f} MB JPEG)",
            "value": round(limit, 2),
            "unit": "photos/s/process",
        },
        {
            "name": "photo processing, worker (analyse)",
            "value": round(mine, 2),
            "unit": "photos/s/process",
            "floor": round(limit, 2),
            "ratio": round(limit / mine, 2),
        },
        {
            "name": "photo processing, naive full decode (ImageField + thumbnail in request)",
            "value": round(naive, 2),
            "unit": "photos/s/process",
            "floor": round(limit, 2),
            "ratio": round(limit / naive, 2),
        },
        {
            "name": "photo processing p99, worker",
            "value": round(mine_p99 * 1000, 1),
            "unit": "ms",
            "floor": round(limit_p99 * 1000, 1),
        },
        {
            "name": "photo processing p99, naive",
            "value": round(naive_p99 * 1000, 1),
            "unit": "ms",
            "floor": round(limit_p99 * 1000, 1),
        },
    ]
    return rows


if __name__ == "__main__":
    import json
    import sys

    json.dump(run(), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
