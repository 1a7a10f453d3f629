"""The fonts and native libraries the renderers need, and a check that they are there.

Fonts come from Debian's `fonts-noto-cjk` (no download at run time): Noto Serif CJK SC is
the Song/Ming-style body face, its bold the masthead and title (小标宋's stand-in), Noto
Sans CJK SC the 黑体 of first-level headings. Each face costs a PDF about 0.1 s and 35 MiB
(WeasyPrint copies the whole collection to subset it), so there are no more than these. WeasyPrint
finds them through fontconfig by family name; the chart (Pillow) and the tests open the
files themselves.

WeasyPrint subsets the embedded fonts with HarfBuzz when `libharfbuzz-subset0` is present;
without it it falls back to fontTools, about 7× slower on CJK fonts, and only logs a
warning. `problems()` turns that into a clear error before anything is rendered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")

# Debian packages the renderer needs at run time (scripts/run.py, scripts/test.sh, Dockerfile).
DEBIAN_PACKAGES = (
    "fonts-noto-cjk",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
)


@dataclass(frozen=True)
class Face:
    family: str  # the fontconfig family name CSS asks for
    path: Path
    index: int  # the face within the .ttc collection

    def exists(self) -> bool:
        return self.path.is_file()


SERIF = Face("Noto Serif CJK SC", NOTO_DIR / "NotoSerifCJK-Regular.ttc", 2)
SERIF_BOLD = Face("Noto Serif CJK SC", NOTO_DIR / "NotoSerifCJK-Bold.ttc", 2)
SANS = Face("Noto Sans CJK SC", NOTO_DIR / "NotoSansCJK-Regular.ttc", 2)
FACES = (SERIF, SERIF_BOLD, SANS)


class RenderingUnavailable(RuntimeError):
    """The machine lacks a font or native library the renderer needs; says what to install."""


def problems() -> list[str]:
    """What is missing for rendering, as sentences; empty when all is in place."""
    found = []
    missing_fonts = sorted({str(face.path) for face in FACES if not face.exists()})
    if missing_fonts:
        found.append(f"CJK fonts missing ({', '.join(missing_fonts)}): install fonts-noto-cjk")
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except OSError as exc:  # Pango or HarfBuzz itself cannot be loaded
        found.append(f"WeasyPrint's native libraries cannot be loaded ({exc})")
        return found
    if harfbuzz_subset is None:
        found.append(
            "libharfbuzz-subset0 is not installed: WeasyPrint would subset the CJK fonts "
            "with fontTools instead, about 7 times slower"
        )
    elif not harfbuzz.hb_version_atleast(4, 1, 0):
        found.append("HarfBuzz is older than 4.1: WeasyPrint cannot use it to subset fonts")
    return found


@functools.cache
def ensure_available() -> None:
    """Raise RenderingUnavailable naming the packages to install; checked once per process."""
    found = problems()
    if found:
        raise RenderingUnavailable(
            "bulletins cannot be rendered: "
            + "; ".join(found)
            + f". As root run: apt-get install {' '.join(DEBIAN_PACKAGES)}"
        )
