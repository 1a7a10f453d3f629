"""Reading a rendered bulletin back the way a person or a search index would: poppler's
command-line tools (pdftotext, pdffonts, pdfinfo, pdfimages, pdftoppm) and pypdf."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


def _run(*argv: str, data: bytes | None = None) -> str:
    done = subprocess.run(argv, input=data, capture_output=True, check=True, timeout=120)
    return done.stdout.decode()


def text(
    pdf: bytes, *, first: int | None = None, last: int | None = None, raw: bool = False
) -> str:
    """pdftotext's reading of the PDF (or of pages first..last), one text line a line;
    `raw`: in the order the text is drawn (a table cell's lines stay together)."""
    pages = ["-raw"] if raw else []
    if first is not None:
        pages += ["-f", str(first)]
    if last is not None:
        pages += ["-l", str(last)]
    return _run("pdftotext", "-enc", "UTF-8", *pages, "-", "-", data=pdf)


PAGE_NUMBER = re.compile(r"^\s*—\s*\d+\s*—\s*$")


def body(pdf: bytes) -> str:
    """The text without the page numbers, so that a paragraph split by a page break reads
    as one."""
    return "\n".join(line for line in text(pdf).splitlines() if not PAGE_NUMBER.match(line))


def flat(value: str) -> str:
    """Text with all white space removed: what a search across line breaks compares."""
    return re.sub(r"\s+", "", value)


def page_count(pdf: bytes) -> int:
    match = re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", "-", data=pdf), re.M)
    assert match, "pdfinfo found no page count"
    return int(match.group(1))


@dataclass(frozen=True)
class FontRow:
    name: str
    kind: str
    embedded: bool
    subset: bool
    unicode: bool


def fonts(pdf: bytes) -> list[FontRow]:
    """pdffonts' table: one row per font the PDF uses."""
    rows = []
    for line in _run("pdffonts", "-", data=pdf).splitlines()[2:]:
        # name, type (may contain spaces), encoding, then emb sub uni object-id generation.
        parts = line.split()
        emb, sub, uni = parts[-5:-2]
        rows.append(
            FontRow(parts[0], " ".join(parts[1:-6]), emb == "yes", sub == "yes", uni == "yes")
        )
    return rows


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


def words(pdf: bytes, page: int) -> list[Word]:
    """Every word of one page with its box in PDF points (origin top left), pdftotext -bbox."""
    html = _run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), "-", "-", data=pdf)
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
        html,
    )
    return [Word(t, float(a), float(b), float(c), float(d)) for a, b, c, d, t in found]


def images(pdf: bytes) -> list[tuple[int, int, str]]:
    """(width, height, encoding) of every image drawn, pdfimages -list."""
    rows = []
    for line in _run("pdfimages", "-list", "-", data=pdf).splitlines()[2:]:
        parts = line.split()
        rows.append((int(parts[3]), int(parts[4]), parts[8]))
    return rows


def png(pdf: bytes, page: int, tmp: Path, dpi: int = 60) -> Path:
    """Page `page` rasterised by poppler (as a viewer would show it)."""
    source = tmp / "bulletin.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(source),
            str(tmp / f"page-{page}"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stderr == "", done.stderr  # poppler complains about fonts it cannot draw
    return tmp / f"page-{page}.png"


def to_unicode_maps(pdf: bytes) -> dict[str, dict[int, str]]:
    """For every embedded font, its ToUnicode CMap: glyph id → the text it stands for."""
    from pypdf import PdfReader

    maps: dict[str, dict[int, str]] = {}
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            name = str(font["/BaseFont"])
            if name in maps or "/ToUnicode" not in font:
                continue
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            maps[name] = _parse_cmap(cmap)
    return maps


def _utf16(hex_text: str) -> str:
    return bytes.fromhex(hex_text).decode("utf-16-be")


def _parse_cmap(cmap: str) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = _utf16(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = ord(_utf16(dst)[-1])
            for i, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[gid] = _utf16(dst)[:-1] + chr(start + i)
    return mapping
