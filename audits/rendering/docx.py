"""`render_docx(doc) -> bytes`: the same bulletin as an editable Word file (python-docx).

Offices edit Word files on machines that have the faces GB/T 9704 names, so the DOCX asks
for them by their East-Asian names: 方正小标宋简体 (masthead and title), 黑体 (first-level
headings), 楷体 (second-level), 仿宋 (body, 3号). Word substitutes a face it lacks. The page
is the PDF's: A4, 37/35/28/26 mm margins, a 28 × 22 document grid, "— N —" page numbers
odd right and even left. The text comes from the same blocks as the PDF's.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from audits.rendering import chart, content
from audits.rendering.content import Chart, Heading, Paragraph, Photos, SealLine, Table
from audits.rendering.document import BulletinDocument

TITLE_FACE = "方正小标宋简体"
HEI = "黑体"
KAI = "楷体"
FANGSONG = "仿宋"
SONG = "宋体"
LATIN = "Times New Roman"
RED = RGBColor(0xE6, 0x00, 0x12)
TEXT_WIDTH = Mm(156)
LINE = Pt(28.95)
# Word's document grid of 22 lines (579 twips = 28.95 pt). Characters are not snapped to
# the grid ("linesAndChars" spreads them in LibreOffice); the Normal style is condensed
# by 0.25 pt instead, so that 28 characters of 16 pt fill the 156 mm line.
GRID = {"w:type": "lines", "w:linePitch": "579"}
CONDENSED_TWIPS = "-5"
# The elements that follow w:pBdr in a paragraph's properties (ECMA-376 CT_PPrBase).
AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _fonts(
    run,
    east_asia: str,
    *,
    size: float | None = None,
    bold: bool = False,
    color: RGBColor | None = None,
    latin: str = LATIN,
) -> None:
    run.font.name = latin
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asia)
    if size:
        run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    if color is not None:
        run.font.color.rgb = color


def _paragraph(
    container,
    text: str = "",
    *,
    face: str = FANGSONG,
    size: float = 16,
    indent: bool = True,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    bold: bool = False,
    color: RGBColor | None = None,
    exact: bool = True,
) -> DocxParagraph:
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE if size <= 16 else Pt(size * 1.45)
    if indent:
        fmt.first_line_indent = Pt(2 * size)
    if size != 16 or not exact:
        _off_grid(paragraph)
    if text:
        _fonts(paragraph.add_run(text), face, size=size, bold=bold, color=color)
    return paragraph


def _off_grid(paragraph: DocxParagraph) -> DocxParagraph:
    """Out of the 22-line grid: otherwise each line of a title, a table cell or a picture
    takes a whole number of 28.95 pt grid lines (a 22 pt title line takes two)."""
    ppr = paragraph._p.get_or_add_pPr()
    if ppr.find(qn("w:snapToGrid")) is None:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        after = AFTER_PBDR[AFTER_PBDR.index("w:snapToGrid") + 1 :]
        ppr.insert_element_before(snap, *after)
    return paragraph


def _border(paragraph: DocxParagraph, side: str, eighths: int, color: str = "000000") -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        # Word rejects a pPr whose children are out of the schema's order.
        borders = ppr.insert_element_before(OxmlElement("w:pBdr"), *AFTER_PBDR)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(eighths))
    edge.set(qn("w:space"), "1")
    edge.set(qn("w:color"), color)
    borders.append(edge)


def _character_spacing(rpr, twips: str) -> None:
    """w:spacing in a run's properties (no python-docx property), in the schema's place."""
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), twips)
    rpr.insert_element_before(
        spacing, "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:lang"
    )


def _table_borders(table, **edges: int) -> None:
    """Table borders: each named edge a single black line of that many eighths of a point,
    every other edge none."""
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        if side in edges:
            edge.set(qn("w:val"), "single")
            edge.set(qn("w:sz"), str(edges[side]))
            edge.set(qn("w:space"), "0")
            edge.set(qn("w:color"), "000000")
        else:
            edge.set(qn("w:val"), "nil")
        borders.append(edge)
    table._tbl.tblPr.insert_element_before(
        borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption"
    )


def _page_number(paragraph: DocxParagraph) -> None:
    _fonts(paragraph.add_run("— "), SONG, size=14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _fonts(paragraph.add_run(" —"), SONG, size=14)


def _setup(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(16)
    normal.paragraph_format.widow_control = False  # as the PDF: the 22-line grid holds
    rpr = normal.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FANGSONG)
    _character_spacing(rpr, CONDENSED_TWIPS)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number's top 7 mm under the text block: its 14 pt line ends ~23 mm up.
    section.footer_distance = Mm(23)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.attrib.pop(qn("w:charSpace"), None)
    for key, value in GRID.items():
        grid.set(qn(key), value)
    document.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(14)
    _page_number(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(14)
    _page_number(even)


def _masthead(document, doc: BulletinDocument) -> None:
    title = _paragraph(
        document,
        doc.title,
        face=TITLE_FACE,
        size=42,
        indent=False,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        color=RED,
    )
    title.paragraph_format.space_before = Mm(35)
    _character_spacing(title.runs[0]._element.get_or_add_rPr(), "240")  # 12 pt, as the PDF
    number = _paragraph(
        document, content.number_line(doc), indent=False, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    number.paragraph_format.space_before = 2 * LINE
    # One character in at each end (ideographic spaces: no indent, so that the tab stop at
    # the right margin means the same to Word and LibreOffice).
    line = _paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _fonts(
        line.add_run(f"\u3000{doc.issuing_body}\t{content.cn_date(doc.issued_on)}\u3000"),
        FANGSONG,
        size=16,
    )
    # The red rule 4 mm under that line, across the text block: an empty paragraph's border.
    rule = _paragraph(document, indent=False, exact=False)
    rule.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    rule.paragraph_format.line_spacing = Mm(4)
    _border(rule, "bottom", 12, "E60012")
    heading = _paragraph(
        document,
        doc.heading,
        face=TITLE_FACE,
        size=22,
        indent=False,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    heading.paragraph_format.space_before = 2 * LINE
    heading.paragraph_format.space_after = LINE


def _cell_text(
    cell, text: str, *, face: str = FANGSONG, size: float = 12, align=WD_ALIGN_PARAGRAPH.LEFT
) -> None:
    paragraph = _off_grid(cell.paragraphs[0])
    paragraph.alignment = align
    _fonts(paragraph.add_run(text), face, size=size)


def _table(document, block: Table) -> None:
    table = document.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = sum(block.widths)
    widths = [int(TEXT_WIDTH * w / total) for w in block.widths]
    # The grid's widths are what LibreOffice (and Word, for a fixed layout) lay out by.
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    header = table.rows[0]
    # Repeat the header row on every page the table spans.
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text, width in zip(header.cells, block.headers, widths, strict=True):
        cell.width = width
        _cell_text(cell, text, face=HEI, align=WD_ALIGN_PARAGRAPH.CENTER)
    for values in block.rows:
        # Row.cells walks the whole table (quadratic over a long list): take the row's own.
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # as the PDF's rows
        cells = [_Cell(tc, table) for tc in row._tr.tc_lst]
        for cell, text, width in zip(cells, values, widths, strict=True):
            cell.width = width
            _cell_text(cell, text)


def _photos(document, block: Photos) -> None:
    table = document.add_table(rows=2, cols=len(block.figures))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column in table.columns:
        column.width = int(TEXT_WIDTH / len(block.figures))
    width = Mm(110) if len(block.figures) == 1 else Mm(74)
    for i, figure in enumerate(block.figures):
        picture = _off_grid(table.cell(0, i).paragraphs[0])
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.add_run().add_picture(io.BytesIO(figure.photo.printed), width=width)
        _cell_text(table.cell(1, i), figure.caption, align=WD_ALIGN_PARAGRAPH.CENTER)


def _block(document, block: content.Block) -> None:
    match block:
        case Heading(level=1, text=text):
            _paragraph(document, text, face=HEI).paragraph_format.keep_with_next = True
        case Heading(text=text):
            heading = _paragraph(document, text, face=KAI, bold=True)
            heading.paragraph_format.keep_with_next = True
        case Paragraph(text=text, style="note"):
            _paragraph(document, text, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
        case Paragraph(text=text):
            _paragraph(document, text)
        case Table():
            _table(document, block)
        case Chart(title=title, counts=counts):
            picture = _off_grid(document.add_paragraph())
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.add_run().add_picture(
                io.BytesIO(chart.bar_chart_png(title, counts)), width=Mm(chart.WIDTH_MM)
            )
        case Photos():
            _photos(document, block)
        case SealLine(rows=rows):
            first = True
            for label, value in rows:
                line = _paragraph(
                    document, indent=False, size=10.5, exact=False, align=WD_ALIGN_PARAGRAPH.LEFT
                )
                if first:
                    line.paragraph_format.space_before = LINE
                    _border(line, "top", 4)
                    first = False
                _fonts(line.add_run(f"{label}："), SONG, size=10.5)
                _fonts(line.add_run(value), SONG, size=10.5, latin="Courier New")
        case _:
            raise TypeError(f"unknown block {block!r}")


def _colophon(document, doc: BulletinDocument) -> None:
    """主送, 抄送 and the 印发 line between rules across the text block: a one-column table
    (paragraph borders would stop at the text's one-character indents)."""
    rows = []
    if doc.distribution.main_to:
        rows.append(f"主送：{'，'.join(doc.distribution.main_to)}。")
    if doc.distribution.copy_to:
        rows.append(f"抄送：{'，'.join(doc.distribution.copy_to)}。")
    spacer = _paragraph(document, indent=False)
    spacer.paragraph_format.space_before = LINE
    table = document.add_table(rows=len(rows) + 1, cols=1)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    table.columns[0].width = TEXT_WIDTH
    _table_borders(table, top=8, insideH=6, bottom=8)
    cells = [row.cells[0] for row in table.rows]
    for cell, text in zip(cells, rows, strict=False):
        cell.width = TEXT_WIDTH
        paragraph = _off_grid(cell.paragraphs[0])
        fmt = paragraph.paragraph_format
        fmt.left_indent = Pt(14 + 3 * 14)  # hanging under "主送："
        fmt.first_line_indent = Pt(-3 * 14)
        fmt.right_indent = Pt(14)
        fmt.keep_with_next = True
        _fonts(paragraph.add_run(text), FANGSONG, size=14)
    last = cells[-1]
    last.width = TEXT_WIDTH
    printed = _off_grid(last.paragraphs[0])
    printed.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _fonts(
        printed.add_run(
            f"\u3000{doc.printed_by or doc.issuing_body}"
            f"\t{content.cn_date(doc.issued_on)}印发\u3000"
        ),
        FANGSONG,
        size=14,
    )
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def render_docx(doc: BulletinDocument) -> bytes:
    """The bulletin as DOCX bytes."""
    document = Document()
    _setup(document)
    document.core_properties.title = doc.heading
    document.core_properties.author = doc.issuing_body
    # The default template's empty first paragraph would push the masthead down a line.
    body = document.element.body
    for empty in list(body.iterchildren(qn("w:p"))):
        body.remove(empty)
    _masthead(document, doc)
    for block in content.blocks(doc):
        _block(document, block)
    _colophon(document, doc)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
