"""The PDF read back with poppler: its text, fonts, page geometry, images and line breaks."""

from __future__ import annotations

import dataclasses
import time

from PIL import Image

from audits.rendering import content
from audits.rendering.document import Case, Photo
from audits.rendering.pdf import render_pdf
from tests.rendering import readback
from tests.rendering.samples import (
    HEADING,
    ISSUING_BODY,
    RARE_NAMES,
    ROOT_HEX,
    preview_jpeg,
    sample_document,
)

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
LEFT, RIGHT, TOP, BOTTOM = 28 * MM, (210 - 26) * MM, 37 * MM, (297 - 35) * MM
CLOSING = "，。；：！？”’》〉」』）】〕、…·%"
OPENING = "（《〈「『【〔“‘"


def test_issued_bulletin_reads_back_whole(issued, issued_pdf):
    text = readback.body(issued_pdf)
    flat = readback.flat(text)
    lines = [line.strip() for line in text.splitlines()]
    # Masthead, number line, issuing body and date.
    assert "督查通报" in flat
    assert "第7期" in lines
    assert "草稿" not in flat
    assert ISSUING_BODY in flat
    assert "2015年7月10日" in flat
    assert readback.flat(HEADING) in flat
    o = issued.overview
    for figure in (
        f"共组织暗访督查{o.inspection_rounds}轮",
        f"实地暗访{o.visits_done}次",
        f"覆盖基层单位{o.units_covered}个",
        f"发现并通报问题{o.findings_total}个",
        f"约谈干部{o.officials_interviewed}人",
        f"组织调整{o.adjustments}人",
        f"逾期未整改{issued.rectification.overdue}个",
    ):
        assert figure in flat, figure
    for count in (*issued.by_county, *issued.by_category):
        assert f"{count.label}{count.count}个" in flat
    for case in issued.cases:
        assert readback.flat(case.title) in flat
    for item in issued.rectification.overdue_items:
        assert item.unit in flat
    for paragraph in issued.requirement_paragraphs():
        assert readback.flat(paragraph) in flat
    assert "主送：各县区党委，市委各部委" in flat
    assert "抄送：市委书记、副书记，市委常委" in flat
    assert "中共宿州市委组织部2015年7月10日印发" in flat
    # The audit trail's signed head: the root hash on one line, whole.
    assert any(ROOT_HEX in line for line in lines)
    assert "第48213号记录" in flat
    assert issued.head.key_id in flat


def test_draft_says_so_and_names_the_bulletin_it_corrects(draft_pdf):
    lines = [line.strip() for line in readback.text(draft_pdf).splitlines()]
    assert "草稿" in lines
    assert not any(line.startswith("第") and line.endswith("期") for line in lines)
    assert "本期通报更正2015年第3期通报" in readback.flat("".join(lines))


def test_every_font_is_embedded(issued_pdf, empty_pdf):
    for pdf in (issued_pdf, empty_pdf):
        rows = readback.fonts(pdf)
        assert rows, "no fonts at all"
        assert all(row.embedded and row.subset and row.unicode for row in rows), rows
        assert {row.name.split("+", 1)[1] for row in rows} == {
            "Noto-Serif-CJK-SC",
            "Noto-Serif-CJK-SC-Bold",
            "Noto-Sans-CJK-SC",
        }  # the fallback faces only where a character needs them
        assert not any("STSong" in row.name for row in rows)


def test_a4_pages_and_the_standard_text_block(issued_pdf):
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(issued_pdf))
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4[0]) < 0.5
        assert abs(float(box.height) - A4[1]) < 0.5
    for number in range(1, len(reader.pages) + 1):
        found = readback.words(issued_pdf, number)
        footer = [w for w in found if w.y_min > BOTTOM]
        body = [w for w in found if w.y_min <= BOTTOM]
        # Everything but the page number inside the 156 × 225 mm text block.
        assert min(w.x_min for w in body) >= LEFT - 0.5
        assert max(w.x_max for w in body) <= RIGHT + 0.5
        assert min(w.y_min for w in body) >= TOP - 0.5
        assert max(w.y_max for w in body) <= BOTTOM + 0.5
        # "— N —" 7 mm under the text block, one character in from the right on odd pages
        # and from the left on even ones.
        assert readback.flat("".join(w.text for w in footer)) == f"—{number}—"
        assert abs(min(w.y_min for w in footer) - (BOTTOM + 7 * MM)) < 3
        if number % 2:
            assert abs(max(w.x_max for w in footer) - (RIGHT - 14)) < 2
        else:
            assert abs(min(w.x_min for w in footer) - (LEFT + 14)) < 2


def test_body_is_28_characters_by_22_lines(issued):
    han = "".join(chr(0x4E00 + (i * 37) % 2000) for i in range(28 * 22 * 3))
    pdf = render_pdf(dataclasses.replace(issued, requirements=han))
    lines_of = {}
    for number in range(1, readback.page_count(pdf) + 1):
        page = readback.text(pdf, first=number, last=number).splitlines()
        lines_of[number] = [line for line in page if line.strip() and line.strip()[0] in han]
    # The requirements fill whole pages: some page holds nothing else.
    full = [n for n, lines in lines_of.items() if len(lines) == 22]
    assert full, {n: len(lines) for n, lines in lines_of.items()}
    for line in lines_of[full[0]]:
        assert len(line.strip()) == 28, line


def test_no_line_begins_with_closing_or_ends_with_opening_punctuation(issued):
    # Every mark at every position a line can end: a renderer that breaks anywhere puts
    # some closing mark at the start of a line, or an opening one at the end.
    text = "".join(
        "督" * n + (mark if mark in CLOSING else mark + "督")
        for n in range(1, 29)
        for mark in CLOSING + OPENING
    )
    long_names = tuple(
        dataclasses.replace(case, description=text[: 300 + 40 * i])
        for i, case in enumerate(issued.cases)
    )
    # Shifted copies: the same marks meet the end of a line at other places.
    shifted = f"{text}\n督{text[7:]}\n督督{text[13:]}"
    doc = dataclasses.replace(issued, requirements=shifted, cases=long_names)
    lines = [line.strip() for line in readback.text(render_pdf(doc)).splitlines()]
    starts = [line for line in lines if line and line[0] in CLOSING]
    assert not starts, starts[:5]
    ends = [line for line in lines if line and line[-1] in OPENING]
    assert not ends, ends[:5]
    assert sum(1 for line in lines if line and line[-1] in CLOSING) > 20  # the marks are there
    assert sum(1 for line in lines if line and line[0] in OPENING) > 5


# A character Noto CJK does not have (CJK extension B): HanaMin supplies it.
BEYOND_NOTO = "\U0002a6a5"


def _face_of(embedded: str):
    """The system face a PDF font was subset from ("/ABCDEF+Noto-Serif-CJK-SC-Bold")."""
    from audits.rendering import fonts

    name = embedded.split("+", 1)[1]
    faces = {
        "Noto-Serif-CJK-SC": fonts.SERIF,
        "Noto-Serif-CJK-SC-Bold": fonts.SERIF_BOLD,
        "Noto-Sans-CJK-SC": fonts.SANS,
        "HanaMinA": fonts.FALLBACK_A,
        "HanaMinB": fonts.FALLBACK_B,
    }
    # HanaMin has one weight: bold or medium text gets it emboldened ("HanaMinA-Bold").
    return faces[name.split("-", 1)[0] if name.startswith("HanaMin") else name]


def _missing_glyphs(embedded: str, mapping: dict[int, str]) -> list[str]:
    """The characters of one embedded font that are not drawn with a glyph of theirs."""
    from fontTools.ttLib import TTFont

    face = _face_of(embedded)
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    cmap, glyphs = font.getBestCmap(), font["maxp"].numGlyphs
    return [
        drawn
        for gid, drawn in mapping.items()
        if len(drawn) != 1 or ord(drawn) not in cmap or not 0 < gid < glyphs
    ]


def test_rare_characters_have_real_glyphs(issued, tmp_path):
    names = "、".join((*RARE_NAMES, f"王{BEYOND_NOTO}"))
    case = dataclasses.replace(
        issued.cases[0],
        title=f"责任人{names}未履职",
        responsible=(*RARE_NAMES, f"王{BEYOND_NOTO}"),
        description=f"{names}等同志在二〇一五年六月的组织生活会上缺席。",
    )
    doc = dataclasses.replace(issued, cases=(case,), heading=f"关于{names}等同志履职情况的通报")
    pdf = render_pdf(doc)
    text = readback.flat(readback.body(pdf))
    for ch in "堃喆珺昇琍翀〇" + BEYOND_NOTO:
        assert ch in text, ch
    # Every character is drawn from a font of ours that has it, with a real glyph. A
    # missing one would be .notdef (glyph 0) or, as Pango and WeasyPrint draw it, glyph
    # 65535 of a font that lacks the character: a box either way. (Glyph ids are not
    # compared with the cmap's: shaping substitutes, e.g. zh-CN digits in Noto.)
    maps = readback.to_unicode_maps(pdf)
    checked = set()
    for embedded, mapping in maps.items():
        assert not _missing_glyphs(embedded, mapping), embedded
        checked.update(mapping.values())
    assert set(text) <= checked  # every character of the text was among them
    assert any("HanaMin" in name for name in maps)  # the fallback drew 𪚥
    # A viewer draws the page without complaint.
    image = Image.open(readback.png(pdf, 1, tmp_path))
    assert abs(image.width - 210 / 25.4 * 60) <= 1
    assert abs(image.height - 297 / 25.4 * 60) <= 1
    assert image.convert("L").getextrema()[0] < 100  # there is ink on it


def test_a_character_no_font_has_would_be_caught():
    # The check above is not vacuous: a private-use character has no glyph in our fonts.
    pdf = render_pdf(dataclasses.replace(sample_document(0, 0), heading="关于王\ue000的通报"))
    bad = []
    for embedded, mapping in readback.to_unicode_maps(pdf).items():
        bad += _missing_glyphs(embedded, mapping)
    assert bad == ["\ue000"]


def test_empty_period_is_a_valid_bulletin_that_says_so(empty, empty_pdf):
    assert empty.is_empty
    assert readback.page_count(empty_pdf) >= 1
    flat = readback.flat(readback.body(empty_pdf))
    assert readback.flat(empty.empty_note) in flat
    assert "第7期" in flat
    assert "主送：" in flat
    assert "典型问题" not in flat
    assert "整改进展" not in flat


def test_twenty_thousand_characters_render_in_seconds(issued):
    paragraph = "各级党组织要切实履行管党治党政治责任，把基层党建工作抓具体、抓深入。"
    text = "\n".join(paragraph * 10 for _ in range(20_000 // (len(paragraph) * 10) + 1))
    assert len(text) >= 20_000
    started = time.monotonic()
    pdf = render_pdf(dataclasses.replace(issued, requirements=text))
    assert time.monotonic() - started < 60
    assert readback.page_count(pdf) > 30
    assert readback.flat(text.splitlines()[-1]) in readback.flat(readback.body(pdf))


def test_strings_are_printed_never_interpreted(issued):
    hostile = '<img src="file:///etc/passwd"><b>加粗</b>&amp;<style>*{color:red}</style>'
    case = dataclasses.replace(issued.cases[0], description=hostile, photos=())
    doc = dataclasses.replace(issued, cases=(case,), requirements=hostile)
    pdf = render_pdf(doc)
    text = readback.flat(readback.body(pdf))
    assert text.count(readback.flat(hostile)) == 2
    assert readback.images(pdf) == []  # nothing was fetched


def test_photos_are_the_reduced_previews_one_or_two_a_case(issued, issued_pdf):
    photos = [photo for case in issued.cases for photo in case.photos]
    drawn = readback.images(issued_pdf)
    assert len(drawn) == len(photos) == 4
    assert all(encoding == "jpeg" and max(w, h) == 800 for w, h, encoding in drawn)
    flat = readback.flat(readback.body(issued_pdf))
    for n, photo in enumerate(photos, 1):
        assert readback.flat(f"图{n}　{photo.caption}") in flat
    # A single photo case prints one picture on its own row.
    single = dataclasses.replace(
        issued, cases=(dataclasses.replace(issued.cases[0], photos=photos[:1]),)
    )
    assert len(readback.images(render_pdf(single))) == 1


def test_chart_figures_are_text_in_the_pdf(issued, issued_pdf):
    lines = [line.strip() for line in readback.text(issued_pdf).splitlines()]
    assert "问题数量（按县区）" in lines
    assert "问题数量（按类别）" in lines
    for count in issued.by_county:
        assert count.label in lines


def test_document_refuses_what_cannot_be_printed():
    import pytest

    doc = sample_document(2, 0)
    with pytest.raises(ValueError, match="together"):
        dataclasses.replace(doc, number=None)
    with pytest.raises(ValueError, match="ends before"):
        dataclasses.replace(doc, period_end=doc.period_start.replace(year=2014))
    with pytest.raises(ValueError, match="JPEG"):
        Photo(b"\x89PNG\r\n", "not a preview")
    with pytest.raises(ValueError, match="at most 2"):
        Case(**{**dataclasses.asdict(doc.cases[0]), "photos": (Photo(preview_jpeg(1)),) * 3})


def test_section_numbers_and_dates():
    assert [content.chinese_number(n) for n in (1, 9, 10, 11, 20, 23, 99)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "二十三",
        "九十九",
    ]
    from datetime import date

    assert content.cn_date(date(2015, 7, 1)) == "2015年7月1日"
    assert content.period_text(date(2015, 1, 1), date(2015, 6, 30)) == "2015年1月1日至6月30日"
    assert content.period_text(date(2014, 12, 1), date(2015, 1, 31)) == (
        "2014年12月1日至2015年1月31日"
    )


def test_same_document_same_bytes(issued, issued_pdf):
    # The SHA-256 frozen at issue can be re-derived by rendering the document again.
    again = dataclasses.replace(
        issued,
        cases=tuple(
            dataclasses.replace(case, photos=tuple(Photo(p.jpeg, p.caption) for p in case.photos))
            for case in issued.cases
        ),
    )
    assert render_pdf(again) == issued_pdf
    assert render_pdf(dataclasses.replace(issued, number=8)) != issued_pdf


def test_sealed_head_from_the_trails_signed_head():
    from datetime import UTC, datetime

    from audits.rendering.document import SealedHead
    from audits.trail.seal import SignedHead

    at = datetime(2015, 7, 10, 9, 30, tzinfo=UTC)
    head = SealedHead.of(SignedHead(42, bytes(range(32)), at, "3f9a0c1d2e4b5a67", b"\x01" * 64))
    assert head.tree_size == 42
    assert head.root_hex == bytes(range(32)).hex()
    assert head.signed_at == at
    assert head.signature_b64.startswith("AQEB")


def test_progress_reports_stages_and_pages(issued):
    seen = []
    pdf = render_pdf(issued, progress=lambda stage, pages: seen.append((stage, pages)))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "parse"
    assert stages[-1] == "write"
    order = ["parse", "style", "structure", "layout", "write"]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == order
    pages = [n for stage, n in seen if stage == "layout"]
    assert pages == list(range(1, readback.page_count(pdf) + 1))
