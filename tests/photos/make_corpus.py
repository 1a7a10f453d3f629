"""Generate the photo test corpus (no binary file is committed): good and hostile files.

`python -m tests.photos.make_corpus DIR` writes every file into DIR; the tests call
`corpus(dir)` to get {name: path}. Each hostile file comes with the answer it must get
(HOSTILE below): the upload's status, then for accepted files the status the worker
leaves it in, and the reason or a flag.
"""

import io
import random
import struct
import sys
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

from PIL import Image


def noise(seed: int, size: tuple[int, int] = (480, 360), mode: str = "RGB") -> Image.Image:
    """A picture no other seed resembles (distinct perceptual hashes), smooth enough to
    survive JPEG re-encoding: random blocks, scaled up."""
    rng = random.Random(seed)
    bands = len(mode) if mode in ("RGB", "CMYK") else 1
    small = Image.frombytes(mode, (12, 9), rng.randbytes(12 * 9 * bands))
    return small.resize(size, Image.Resampling.BICUBIC)


def exif_bytes(
    *,
    make: str = "HUAWEI",
    model: str = "P30",
    orientation: int | None = None,
    taken: str | None = None,
    offset: str | None = None,
    gps: tuple[float, float] | None = None,
    comment: bytes | None = None,
) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    if orientation is not None:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if taken is not None:
        sub[0x9003] = taken
    if offset is not None:
        sub[0x9011] = offset
    if comment is not None:
        sub[0x9286] = comment
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1], g[3] = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
        g[2] = _dms(abs(lat))
        g[4] = _dms(abs(lon))
    return exif.tobytes()


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return (float(d), float(m), s)


def jpeg(
    seed: int = 1,
    size: tuple[int, int] = (480, 360),
    quality: int = 90,
    exif: bytes | None = None,
    mode: str = "RGB",
) -> bytes:
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    noise(seed, size, mode).save(out, "JPEG", quality=quality, **kwargs)
    return out.getvalue()


def camera_jpeg(seed: int, *, when: datetime, lat: float, lon: float, **more) -> bytes:
    """A phone picture: EXIF time (with offset), GPS, make and model."""
    return jpeg(
        seed,
        exif=exif_bytes(
            taken=when.strftime("%Y:%m:%d %H:%M:%S"),
            offset=when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:],
            gps=(lat, lon),
            **more,
        ),
    )


def png(seed: int = 1, size: tuple[int, int] = (200, 150), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    noise(seed, size, "RGB").convert(mode).save(out, "PNG")
    return out.getvalue()


def heic(seed: int = 1) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    noise(seed, (256, 192)).save(out, "HEIF", quality=80)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 30000) -> bytes:
    """A 30000×30000 grey PNG of a few hundred bytes: a header and a little zlib of zeros.
    Nothing is allocated to make it; decoding it whole would take 900 MB."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (side + 1) * 16, 9)  # 16 rows; a real decoder asks more
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")
    )


def png_16bit() -> bytes:
    out = io.BytesIO()
    grey = noise(7, (160, 120)).convert("L")
    wide = grey.convert("I").point(lambda v: v * 256).convert("I;16")
    wide.save(out, "PNG")
    return out.getvalue()


def apng() -> bytes:
    out = io.BytesIO()
    frames = [noise(20 + i, (160, 120)) for i in range(3)]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def corrupt_markers() -> bytes:
    good = bytearray(jpeg(3))
    sof = good.find(b"\xff\xc0")
    good[sof + 5 : sof + 9] = b"\x00\x00\x00\x00"  # height and width 0
    dht = good.find(b"\xff\xc4")
    good[dht + 1] = 0x01  # an undefined marker where the Huffman table was
    return bytes(good)


# name: (bytes factory, upload status, processed status or None, reason / flag or None)
HOSTILE = {
    "zero.jpg": (lambda: b"", 415, None, None),
    "truncated.jpg": (lambda: jpeg(4)[:2000], 201, "rejected", "undecodable"),
    "corrupt_markers.jpg": (corrupt_markers, 201, "rejected", "undecodable"),
    "bomb.png": (png_bomb, 201, "rejected", "too_many_pixels"),
    "absurd_exif.jpg": (
        lambda: jpeg(
            5,
            exif=exif_bytes(
                make="X" * 5000,
                taken="1900:01:01 00:00:00",
                gps=(123.0, 500.0),
                comment=b"ASCII\x00\x00\x00" + b"A" * 60000,
            ),
        ),
        201,
        "ready",
        "gps_missing",
    ),
    "future_exif.jpg": (
        lambda: jpeg(6, exif=exif_bytes(taken="2100:12:31 23:59:59")),
        201,
        "ready",
        "outside_visit_window",
    ),
    "html.jpg": (lambda: b"<!doctype html><html><script>alert(1)</script></html>", 415, None, None),
    "svg.jpg": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        415,
        None,
        None,
    ),
    "zip.jpg": (zip_bytes, 415, None, None),
    "polyglot.jpg": (lambda: jpeg(8) + zip_bytes(), 201, "ready", "embedded_archive"),
    "one_pixel.png": (lambda: png(9, (1, 1)), 201, "rejected", "too_small"),
    "animated.png": (apng, 201, "ready", "animated"),
    "cmyk.jpg": (lambda: jpeg(10, mode="CMYK"), 201, "ready", "no_exif"),
    "gray16.png": (png_16bit, 201, "ready", "no_exif"),
    "iphone.heic": (heic, 201, "ready", "no_exif"),
}


def corpus(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (make, *_expected) in HOSTILE.items():
        path = directory / name
        path.write_bytes(make())
        paths[name] = path
    return paths


if __name__ == "__main__":
    for name, path in corpus(Path(sys.argv[1])).items():
        sys.stdout.write(f"{path.stat().st_size:>8}  {name}\n")
