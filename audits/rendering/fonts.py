"""The fonts and native libraries the renderers need, and a check that they are there.

Fonts come from Debian's `fonts-noto-cjk` (no download at run time): Noto Serif CJK SC is
the Song/Ming-style body face, its bold the masthead and title (小标宋's stand-in), Noto
Sans CJK SC the 黑体 of first-level headings. Each face costs a PDF about 0.1 s and 35 MiB
(WeasyPrint copies the whole collection to subset it), so there are no more than these.
Debian's `fonts-hanazono` supplies the characters Noto does not have. WeasyPrint
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
    "fonts-hanazono",
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
# Fallback for the characters Noto lacks (CJK extensions B and later, some compatibility
# ideographs: rare characters in names): HanaMin, a Mincho face with every CJK ideograph.
# Embedded only when a character needs it.
HANAZONO_DIR = Path("/usr/share/fonts/truetype/hanazono")
FALLBACK_A = Face("HanaMinA", HANAZONO_DIR / "HanaMinA.ttf", 0)
FALLBACK_B = Face("HanaMinB", HANAZONO_DIR / "HanaMinB.ttf", 0)
FACES = (SERIF, SERIF_BOLD, SANS, FALLBACK_A, FALLBACK_B)
# CSS font-family lists: Pango takes each character from the first family that has it.
SERIF_STACK = f'"{SERIF.family}", "{FALLBACK_A.family}", "{FALLBACK_B.family}"'
SANS_STACK = f'"{SANS.family}", "{FALLBACK_A.family}", "{FALLBACK_B.family}"'


class RenderingUnavailable(RuntimeError):
    """The machine lacks a font or native library the renderer needs; says what to install."""


def problems() -> list[str]:
    """What is missing for rendering, as sentences; empty when all is in place."""
    found = []
    missing_fonts = sorted({str(face.path) for face in FACES if not face.exists()})
    if missing_fonts:
        found.append(
            f"CJK fonts missing ({', '.join(missing_fonts)}): install fonts-noto-cjk and "
            "fonts-hanazono"
        )
    try:
        from audits.rendering.engine import ffi
    except OSError as exc:  # Pango or HarfBuzz itself cannot be loaded
        found.append(f"WeasyPrint's native libraries cannot be loaded ({exc})")
        return found
    harfbuzz, harfbuzz_subset = ffi.harfbuzz, ffi.harfbuzz_subset
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
