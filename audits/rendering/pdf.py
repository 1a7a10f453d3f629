"""`render_pdf(doc) -> bytes`: a bulletin laid out after GB/T 9704-2012, with WeasyPrint.

The page: A4, text block 156 × 225 mm (top 37 mm, left 28 mm), body in Noto Serif CJK SC
at 3号 (16 pt) with 28 characters a line and 22 lines a page, red masthead and red
separator, page numbers "— N —" 7 mm under the text block, odd pages right, even left.
Layout decisions and measurements: docs/BULLETINS.md.

Every string of the document is escaped into the HTML: a description cannot add markup.
WeasyPrint fetches nothing: the only URLs it may open are the photos handed to it in
memory (`photo:N`); anything else (file:, http:, data:) is refused.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections.abc import Callable
from html import escape

from audits.rendering import content, fonts
from audits.rendering.content import (
    Chart,
    Heading,
    Paragraph,
    Photos,
    SealLine,
    Table,
)
from audits.rendering.document import BulletinDocument
from audits.rendering.engine import (
    CSS,
    HTML,
    FontConfiguration,
    URLFetcher,
    URLFetcherResponse,
)

RED = "#e60012"
# 156 mm = 442.2 pt of text block: 28 characters of 16 pt need 0.21 pt less advance each.
LETTER_SPACING_PT = -0.21
# 225 mm = 637.8 pt of text block over 22 lines.
LINE_PT = 28.95

STYLESHEET = f"""
@page {{
  size: A4;
  margin: 37mm 26mm 35mm 28mm;
}}
@page :right {{
  @bottom-right {{
    content: "— " counter(page) " —";
    vertical-align: top; padding-top: 7mm; padding-right: 14pt; white-space: nowrap;
    font: 14pt {fonts.SERIF_STACK};
  }}
}}
@page :left {{
  @bottom-left {{
    content: "— " counter(page) " —";
    vertical-align: top; padding-top: 7mm; padding-left: 14pt; white-space: nowrap;
    font: 14pt {fonts.SERIF_STACK};
  }}
}}
html {{
  font-family: {fonts.SERIF_STACK};
  font-size: 16pt;
  line-height: {LINE_PT}pt;
  letter-spacing: {LETTER_SPACING_PT}pt;
  color: #000;
  orphans: 1; widows: 1;
}}
body {{ margin: 0; }}
.nb {{ white-space: nowrap; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}

.masthead {{ text-align: center; margin-top: 35mm; }}
.masthead .title {{
  color: {RED}; font-weight: bold; font-size: 42pt; line-height: 1.2;
  letter-spacing: 0.3em; margin-right: -0.3em;
}}
.masthead .number {{ margin-top: {2 * LINE_PT}pt; }}
.masthead table {{ width: 100%; border-collapse: collapse; }}
.masthead td {{ padding: 0 1em; }}
.masthead td.date {{ text-align: right; }}
.rule {{ border-top: 1.5pt solid {RED}; margin-top: 4mm; }}

h1 {{
  font-size: 22pt; font-weight: bold; line-height: 1.45; text-align: center;
  margin: {2 * LINE_PT}pt 0 {LINE_PT}pt 0; letter-spacing: 0;
}}
h2 {{
  font-family: {fonts.SANS_STACK}; font-weight: normal; font-size: 16pt;
  margin: 0; text-indent: 2em;
  break-after: avoid;
}}
h3 {{ font-size: 16pt; font-weight: bold; margin: 0; text-indent: 2em; break-after: avoid; }}
p.note {{ text-indent: 0; text-align: center; font-weight: bold; }}
table.data {{
  width: 100%; border-collapse: collapse; table-layout: fixed;
  font-size: 12pt; line-height: 1.35; letter-spacing: 0; margin: 4pt 0 {LINE_PT / 2}pt 0;
}}
table.data th, table.data td {{
  border: 0.5pt solid #000; padding: 2pt 3pt; vertical-align: top;
  overflow-wrap: anywhere;
}}
table.data th {{ font-family: {fonts.SANS_STACK}; font-weight: normal; text-align: center; }}
table.data thead {{ display: table-header-group; }}
table.data tr {{ break-inside: avoid; }}

.chart {{ break-inside: avoid; margin: 4pt 0 {LINE_PT / 2}pt 0; letter-spacing: 0; }}
.chart .caption {{
  font-family: {fonts.SANS_STACK}; font-size: 12pt; line-height: 1.5; text-align: center;
}}
.chart table {{ width: 100%; border-collapse: collapse; font-size: 12pt; line-height: 1.3; }}
.chart td {{ padding: 1.5pt 0; vertical-align: middle; }}
.chart td.label {{ width: 30%; text-align: right; padding-right: 6pt; }}
.chart td.value {{ width: 10%; padding-left: 4pt; }}
.chart .bar {{ height: 9pt; background: #8c0a0a; }}
.chart .axis {{ border-left: 0.75pt solid #000; }}

table.photos {{
  width: 100%; border-collapse: collapse; table-layout: fixed; break-inside: avoid;
  margin: 4pt 0 {LINE_PT / 2}pt 0; letter-spacing: 0;
}}
table.photos td {{ padding: 0 2mm; text-align: center; vertical-align: top; }}
table.photos img {{ width: 100%; height: 56mm; object-fit: contain; }}
table.photos.single img {{ height: 80mm; }}
table.photos .caption {{ font-size: 12pt; line-height: 1.4; margin-top: 2pt; }}

.seal {{
  break-inside: avoid; margin-top: {LINE_PT}pt; font-size: 10.5pt; line-height: 1.5;
  letter-spacing: 0; border-top: 0.5pt solid #000; padding-top: 3pt;
}}
.seal table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
.seal td {{ padding: 0; vertical-align: top; }}
.seal td.label {{ width: 24mm; }}
.seal td.value {{ overflow-wrap: anywhere; }}

.colophon {{
  break-inside: avoid; margin-top: {2 * LINE_PT}pt; font-size: 14pt; line-height: 1.6;
  letter-spacing: 0; border-top: 1pt solid #000; border-bottom: 1pt solid #000;
}}
.colophon div {{ padding: 2pt 14pt; }}
.colophon div + div {{ border-top: 0.7pt solid #000; }}
.colophon .hanging {{ padding-left: calc(14pt + 3em); text-indent: -3em; }}
.colophon table {{ width: 100%; border-collapse: collapse; }}
.colophon td {{ padding: 0; }}
.colophon td.date {{ text-align: right; }}
"""


class _PhotoFetcher(URLFetcher):
    """Serves `photo:N` from memory and refuses every other URL: no file, no network."""

    def __init__(self, photos: list[bytes]) -> None:
        super().__init__(allowed_protocols=("photo",))
        self._photos = photos

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme, _, key = url.partition(":")
        if scheme != "photo" or not key.isdigit() or int(key) >= len(self._photos):
            raise ValueError(f"bulletins load nothing from outside: {url[:60]}")
        return URLFetcherResponse(
            url, self._photos[int(key)], headers={"Content-Type": "image/jpeg"}
        )


# Closing marks never begin a line and opening marks never end one (行首/行尾禁则). Pango's
# UAX #14 classes already keep ，。、；：！？）》”… and the opening marks in place; these
# few it would break before (the middle dot of names is "ambiguous", percent signs are
# postfix) become one unbreakable span with the character before them. Only these: a span
# per mark tripled the layout time of long text (docs/BULLETINS.md).
ORPHANS = "·%‰℃"
_UNBREAKABLE = re.compile(f"\\S[{ORPHANS}]+")


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _text(value: str) -> str:
    """`value` escaped as HTML text, with its punctuation kept off line starts and ends."""
    out = []
    pos = 0
    for match in _UNBREAKABLE.finditer(value):
        out.append(escape(value[pos : match.start()], quote=False))
        out.append(f'<span class="nb">{escape(match.group(), quote=False)}</span>')
        pos = match.end()
    out.append(escape(value[pos:], quote=False))
    return "".join(out)


def _masthead(doc: BulletinDocument) -> str:
    return (
        '<div class="masthead">'
        f'<div class="title">{_text(doc.title)}</div>'
        f'<div class="number">{_text(content.number_line(doc))}</div>'
        "<table><tr>"
        f'<td class="issuer">{_text(doc.issuing_body)}</td>'
        f'<td class="date">{_text(content.cn_date(doc.issued_on))}</td>'
        "</tr></table>"
        '<div class="rule"></div>'
        "</div>"
        f"<h1>{_text(doc.heading)}</h1>"
    )


def _colophon(doc: BulletinDocument) -> str:
    rows = []
    if doc.distribution.main_to:
        rows.append(f"主送：{'，'.join(doc.distribution.main_to)}。")
    if doc.distribution.copy_to:
        rows.append(f"抄送：{'，'.join(doc.distribution.copy_to)}。")
    parts = [f'<div class="hanging">{_text(row)}</div>' for row in rows]
    parts.append(
        "<div><table><tr>"
        f"<td>{_text(doc.printed_by or doc.issuing_body)}</td>"
        f'<td class="date">{_text(content.cn_date(doc.issued_on))}印发</td>'
        "</tr></table></div>"
    )
    return f'<div class="colophon">{"".join(parts)}</div>'


def _table(block: Table) -> str:
    total = sum(block.widths)
    cols = "".join(f'<col style="width:{100 * w / total:.2f}%">' for w in block.widths)
    head = "".join(f"<th>{_text(h)}</th>" for h in block.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_text(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
    )
    return (
        f'<table class="data"><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _chart(block: Chart) -> str:
    """A horizontal bar chart drawn in CSS: its labels and figures stay searchable text."""
    top = max((c.count for c in block.counts), default=0) or 1
    rows = "".join(
        "<tr>"
        f'<td class="label">{_text(c.label)}</td>'
        f'<td class="axis"><div class="bar" style="width:{100 * c.count / top:.1f}%"></div></td>'
        f'<td class="value">{c.count}</td>'
        "</tr>"
        for c in block.counts
    )
    return (
        f'<div class="chart"><div class="caption">{_text(block.title)}</div>'
        f"<table>{rows}</table></div>"
    )


def _photos(block: Photos, photos: list[bytes]) -> str:
    cells = []
    for figure in block.figures:
        photos.append(figure.photo.printed)
        cells.append(
            f'<td><img src="photo:{len(photos) - 1}" alt="">'
            f'<div class="caption">{_text(figure.caption)}</div></td>'
        )
    single = " single" if len(cells) == 1 else ""
    return f'<table class="photos{single}"><tr>{"".join(cells)}</tr></table>'


def _seal(block: SealLine) -> str:
    rows = "".join(
        f'<tr><td class="label">{_text(label)}</td><td class="value">{_text(value)}</td></tr>'
        for label, value in block.rows
    )
    return f'<div class="seal"><table>{rows}</table></div>'


def _block(block: content.Block, photos: list[bytes]) -> str:
    match block:
        case Heading(level=1, text=text):
            return f"<h2>{_text(text)}</h2>"
        case Heading(text=text):
            return f"<h3>{_text(text)}</h3>"
        case Paragraph(text=text, style="body"):
            return f"<p>{_text(text)}</p>"
        case Paragraph(text=text, style=style):
            return f'<p class="{style}">{_text(text)}</p>'
        case Table():
            return _table(block)
        case Chart():
            return _chart(block)
        case Photos():
            return _photos(block, photos)
        case SealLine():
            return _seal(block)
    raise TypeError(f"unknown block {block!r}")


def to_html(doc: BulletinDocument) -> tuple[str, list[bytes]]:
    """The bulletin as one HTML page and the photos its `photo:N` URLs refer to."""
    photos: list[bytes] = []
    body = "".join(_block(block, photos) for block in content.blocks(doc))
    html = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_attr(doc.heading)}</title>"
        f'<meta name="author" content="{_attr(doc.issuing_body)}">'
        "</head><body>"
        f"{_masthead(doc)}{body}{_colophon(doc)}"
        "</body></html>"
    )
    return html, photos


# WeasyPrint reports each step, and each page laid out, on this logger at INFO: material
# for a progress bar (`render_pdf(progress=...)`), not for the worker's log.
_PROGRESS = logging.getLogger("weasyprint.progress")
_PROGRESS.propagate = False
_PROGRESS.setLevel(logging.INFO)  # whatever the root's level, the handler below hears it
_STAGES = {"1": "parse", "2": "parse", "3": "style", "4": "structure", "5": "layout",
           "6": "write", "7": "write"}  # fmt: skip
Progress = Callable[[str, int], None]


class _ProgressHandler(logging.Handler):
    """Calls `progress(stage, pages laid out so far)` for this thread's render only."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.thread = threading.get_ident()
        self.pages = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        message = record.getMessage()  # "Step 5 - Creating layout - Page 3"
        stage = _STAGES.get(message[5:6], "render")
        if stage == "layout":
            self.pages = max(self.pages, int(message.rsplit(" ", 1)[1]))
        self.progress(stage, self.pages)


def render_pdf(doc: BulletinDocument, progress: Progress | None = None) -> bytes:
    """The bulletin as PDF bytes, fonts embedded (subsets), text extractable.

    `progress(stage, pages)`, if given, is called as WeasyPrint goes: stages "parse",
    "style", "structure", "layout" (once a page, with the pages laid out so far), "write".
    """
    fonts.ensure_available()
    html, photos = to_html(doc)
    fetcher = _PhotoFetcher(photos)
    font_config = FontConfiguration()
    stylesheet = CSS(string=STYLESHEET, font_config=font_config, url_fetcher=fetcher)
    handler = _ProgressHandler(progress) if progress else None
    if handler:
        _PROGRESS.addHandler(handler)
    try:
        return HTML(string=html, url_fetcher=fetcher).write_pdf(
            stylesheets=[stylesheet], font_config=font_config
        )
    finally:
        if handler:
            _PROGRESS.removeHandler(handler)
        # WeasyPrint leaves reference cycles holding a copy of every font collection used
        # (20-27 MB each): without a collection here, each render in a long-lived worker
        # adds ~90 MiB to the peak until the cyclic collector happens to run.
        del photos, fetcher, font_config, stylesheet
        gc.collect()
