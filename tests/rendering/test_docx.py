"""The DOCX opened with python-docx: the same text as the PDF, Chinese faces, A4 page."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from audits.rendering import content
from audits.rendering.docx import render_docx
from tests.rendering import readback
from tests.rendering.samples import HEADING, ISSUING_BODY, ROOT_HEX


def _all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]

    def cells(table):
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
                for inner in cell.tables:
                    cells(inner)

    for table in document.tables:
        cells(table)
    return "\n".join(parts)


def _block_texts(doc) -> tuple[list[str], list[str]]:
    """The texts of the body's blocks: (running text, table cells)."""
    texts, cells = [], []
    for block in content.blocks(doc):
        match block:
            case content.Heading(text=text) | content.Paragraph(text=text):
                texts.append(text)
            case content.Table(headers=headers, rows=rows):
                cells.extend(headers)
                cells.extend(cell for row in rows for cell in row)
            case content.Photos(figures=figures):
                cells.extend(figure.caption for figure in figures)
            case content.SealLine(rows=rows):
                cells.extend(value for _, value in rows)
    return texts, cells


def test_docx_opens_and_says_what_the_pdf_says(issued, issued_docx, issued_pdf):
    document = Document(io.BytesIO(issued_docx))
    text = _all_text(document)
    pdf_flat = readback.flat(readback.body(issued_pdf))
    # Cells of a table read back cell by cell in drawing order (-raw), not across the row.
    pdf_cells = readback.flat(readback.text(issued_pdf, raw=True))
    assert "督查通报" in text
    assert "第7期" in text
    assert ISSUING_BODY in text
    assert HEADING in text
    assert ROOT_HEX in text
    assert "主送：各县区党委" in text
    assert "抄送：市委书记、副书记" in text
    assert "2015年7月10日印发" in text
    texts, cells = _block_texts(issued)
    assert len(texts) > 20
    assert len(cells) > 50
    for piece in texts:
        assert piece in text, piece
        assert readback.flat(piece) in pdf_flat, piece
    for piece in cells:
        assert piece in text, piece
        assert readback.flat(piece) in pdf_cells, piece
    assert document.core_properties.title == HEADING


def test_docx_asks_word_for_the_standard_faces(issued_docx):
    document = Document(io.BytesIO(issued_docx))
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋"
    faces = {}
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            if run._element.rPr is None:
                continue  # a picture's run
            rfonts = run._element.rPr.rFonts
            faces.setdefault(rfonts.get(qn("w:eastAsia")), []).append(run.text)
    assert "督查通报" in faces["方正小标宋简体"]
    assert "一、总体情况" in faces["黑体"]
    assert any(text.startswith("（一）") for text in faces["楷体"])
    assert len(faces["仿宋"]) > 10


def test_docx_page_is_a4_with_the_standard_margins_and_numbers(issued_docx):
    document = Document(io.BytesIO(issued_docx))
    section = document.sections[0]
    # Word stores twips: a millimetre is 56.7 of them, so compare to a tenth of one.
    for value, mm in (
        (section.page_width, 210),
        (section.page_height, 297),
        (section.top_margin, 37),
        (section.bottom_margin, 35),
        (section.left_margin, 28),
        (section.right_margin, 26),
    ):
        assert abs(value - Mm(mm)) < Mm(0.1), (value.mm, mm)
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"
    assert document.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert 'w:instr="PAGE"' in xml
        assert "— " in xml


def test_docx_pictures_are_the_charts_and_the_photos(issued, issued_docx):
    document = Document(io.BytesIO(issued_docx))
    pictures = [
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/image")
    ]
    photos = sum(len(case.photos) for case in issued.cases)
    kinds = sorted(part.content_type for part in pictures)
    assert kinds.count("image/jpeg") == photos
    assert kinds.count("image/png") == 2  # by county, by category


def test_empty_period_docx(empty):
    text = _all_text(Document(io.BytesIO(render_docx(empty))))
    assert empty.empty_note in text
    assert "典型问题" not in text


def test_docx_paragraph_properties_keep_the_schema_order(issued_docx):
    # Word refuses to open a file whose pPr children are out of order (pBdr before tabs,
    # spacing, ind and jc); python-docx does not check what is appended by hand.
    import re
    import zipfile

    xml = zipfile.ZipFile(io.BytesIO(issued_docx)).read("word/document.xml").decode()
    order = ("w:keepNext", "w:pBdr", "w:tabs", "w:spacing", "w:ind", "w:jc")
    bordered = 0
    for properties in re.findall(r"<w:pPr>(.*?)</w:pPr>", xml):
        tags = [t for t in re.findall(r"<(w:\w+)", properties) if t in order]
        if "w:pBdr" in tags:
            bordered += 1
            assert tags == sorted(tags, key=order.index), tags
    assert bordered >= 2  # the red rule and the seal's rule
