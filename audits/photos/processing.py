"""What the worker does with one original: read it, check it, derive the served images.

Pure functions of a local file: no database, no storage. Decoding refuses anything over
`PHOTO_MAX_PIXELS` before allocating it (Pillow reads only the header to know the size),
and Pillow's decompression-bomb warning is an error. JPEGs are decoded at reduced scale
(`Image.draft`) when the preview is smaller than the original.
"""

import math
import os
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pillow_heif
from django.conf import settings
from PIL import Image

from audits.photos.storage import new_tmp_file

pillow_heif.register_heif_opener()
warnings.simplefilter("error", Image.DecompressionBombWarning)

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/heic": "HEIF"}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011


class Unusable(Exception):
    """The file cannot be evidence; `code` is the photo's rejection reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass
class Analysis:
    width: int
    height: int
    orientation: int | None = None
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    make: str = ""
    model: str = ""
    has_exif: bool = False
    phash: int | None = None
    thumbnail_path: str = ""
    preview_path: str = ""
    extra_flags: list[str] = field(default_factory=list)

    def discard(self) -> None:
        for path in (self.thumbnail_path, self.preview_path):
            if path and os.path.exists(path):
                os.unlink(path)


def analyse(path: str, content_type: str) -> Analysis:
    """Read, check and derive: the caller stores the two derived files (temporary paths)."""
    Image.MAX_IMAGE_PIXELS = settings.PHOTO_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _analyse(path, content_type)
    except Unusable:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unusable("too_many_pixels", str(exc)) from exc
    except MemoryError as exc:
        raise Unusable("too_large_to_decode") from exc
    except Exception as exc:
        raise Unusable("undecodable", f"{type(exc).__name__}: {exc}"[:150]) from exc


def _analyse(path: str, content_type: str) -> Analysis:
    with Image.open(path, formats=[FORMATS[content_type]]) as im:
        width, height = im.size
        if width * height > settings.PHOTO_MAX_PIXELS:
            raise Unusable("too_many_pixels", f"{width}x{height}")
        if min(width, height) < settings.PHOTO_MIN_SIDE:
            raise Unusable("too_small", f"{width}x{height}")
        out = Analysis(width=width, height=height)
        _read_exif(im, out)
        if getattr(im, "is_animated", False):
            out.extra_flags.append("animated")
        if im.format == "JPEG":
            # Decode at the smallest DCT scale still at least the preview's size.
            im.draft("RGB", (settings.PHOTO_PREVIEW_PX, settings.PHOTO_PREVIEW_PX))
        im.load()
        # Reduce first, then turn: the orientation is applied to the small image.
        preview = _upright(_bounded(_to_rgb(im), settings.PHOTO_PREVIEW_PX), out.orientation)
    thumbnail = _bounded(preview, settings.PHOTO_THUMBNAIL_PX)
    out.phash = dhash(thumbnail)
    if content_type == "image/jpeg" and _has_trailing_archive(path):
        out.extra_flags.append("embedded_archive")
    try:
        out.preview_path = _save_jpeg(preview)
        out.thumbnail_path = _save_jpeg(thumbnail)
    except BaseException:
        out.discard()
        raise
    return out


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif im.mode == "F":
        im = im.convert("L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if im.mode != "RGB":
        return im.convert("RGB")
    return im


def _bounded(im: Image.Image, side: int) -> Image.Image:
    if max(im.size) <= side:
        return im.copy()
    scale = side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    return im.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(im: Image.Image, orientation: int | None) -> Image.Image:
    """The EXIF orientation applied (what ImageOps.exif_transpose does)."""
    method = _TRANSPOSE.get(orientation or 1)
    return im.transpose(method) if method is not None else im


def _save_jpeg(im: Image.Image) -> str:
    """A JPEG with no metadata at all (no EXIF, no GPS, no ICC, no comments)."""
    im.info = {}  # our own derived copy: nothing of the original's metadata is carried
    fd, path = new_tmp_file(".jpg")
    with os.fdopen(fd, "wb") as handle:
        im.save(handle, "JPEG", quality=85)
    return path


def dhash(im: Image.Image) -> int:
    """64-bit difference hash (signed, for a PostgreSQL bigint): near pictures, near hashes."""
    small = im.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    px = small.load()
    bits = 0
    for y in range(8):
        for x in range(8):
            bits = (bits << 1) | (px[x, y] > px[x + 1, y])
    return bits - (1 << 64) if bits >= 1 << 63 else bits


def informative(phash: int | None) -> bool:
    """A hash of a near-blank picture matches every other near-blank one: not evidence."""
    if phash is None:
        return False
    ones = bin(phash & ((1 << 64) - 1)).count("1")
    return 8 <= ones <= 56


def _has_trailing_archive(path: str) -> bool:
    """A ZIP's end-of-central-directory record near the end: a JPEG/ZIP polyglot."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 66 * 1024))
        return b"PK\x05\x06" in handle.read()


# --- EXIF --------------------------------------------------------------------------------


def _read_exif(im: Image.Image, out: Analysis) -> None:
    try:
        exif = im.getexif()
    except Exception:
        return
    out.has_exif = len(exif) > 0
    if not out.has_exif:
        return
    out.make = _text(exif.get(_MAKE))
    out.model = _text(exif.get(_MODEL))
    orientation = exif.get(_ORIENTATION)
    out.orientation = (
        orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None
    )
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:
        sub = {}
    out.taken_at = _when(
        sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), sub.get(_OFFSET_ORIGINAL)
    )
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:
        gps = {}
    out.lat, out.lon = _position(gps)


def _text(value: object, limit: int = 100) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c.isprintable()).strip()[:limit]


def _when(value: object, offset: object) -> datetime | None:
    text = _text(value, 40)
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007
    except ValueError:
        return None
    tz = ZoneInfo(settings.TIME_ZONE)
    off = _text(offset, 10)
    if len(off) == 6 and off[0] in "+-" and off[3] == ":":
        try:
            minutes = int(off[1:3]) * 60 + int(off[4:6])
            tz = timezone(timedelta(minutes=minutes if off[0] == "+" else -minutes))
        except ValueError:
            pass
    return naive.replace(tzinfo=tz)


def _degrees(value: object) -> float | None:
    try:
        d, m, s = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return result if math.isfinite(result) else None


def _position(gps: dict) -> tuple[float | None, float | None]:
    lat, lon = _degrees(gps.get(2)), _degrees(gps.get(4))
    if lat is None or lon is None:
        return None, None
    if _text(gps.get(1)).upper() == "S":
        lat = -lat
    if _text(gps.get(3)).upper() == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return round(lat, 7), round(lon, 7)
