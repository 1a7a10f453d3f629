"""The bulletin's text, worded once: the blocks both renderers lay out in the same order.

`blocks(doc)` turns a `BulletinDocument` into headings, paragraphs, tables, charts and
photos. The PDF and the DOCX render these blocks and only these, so the two files say the
same thing; the masthead and the colophon (版头, 版记) are the renderers' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from audits.rendering.document import BulletinDocument, Case, Count, Photo

NUMERALS = "〇一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (section numbers; up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else NUMERALS[tens]) + "十" if tens else ""
    return text + (NUMERALS[ones] if ones else "")


def cn_date(day: date) -> str:
    """GB/T 9704 writes dates with Arabic numerals and no leading zeros: 2015年7月10日."""
    return f"{day.year}年{day.month}月{day.day}日"


def period_text(start: date, end: date) -> str:
    if start == end:
        return cn_date(start)
    if start.year == end.year:
        return f"{cn_date(start)}至{end.month}月{end.day}日"
    return f"{cn_date(start)}至{cn_date(end)}"


def number_line(doc: BulletinDocument) -> str:
    """The line under the masthead: 第N期, or 草稿 while the bulletin is a draft."""
    return "草稿" if doc.is_draft else f"第{doc.number}期"


def breakdown(counts: tuple[Count, ...], unit: str = "个") -> str:
    return "、".join(f"{c.label}{c.count}{unit}" for c in counts)


# --- blocks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int  # 1: 一、 (黑体); 2: （一） (楷体/bold)
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str = "body"  # body | note (a centred remark)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]  # relative column widths


@dataclass(frozen=True)
class Chart:
    title: str
    counts: tuple[Count, ...]


@dataclass(frozen=True)
class Figure:
    number: int  # 图N
    photo: Photo

    @property
    def caption(self) -> str:
        return f"图{self.number}　{self.photo.caption}".rstrip()


@dataclass(frozen=True)
class Photos:
    figures: tuple[Figure, ...]  # one or two, side by side


@dataclass(frozen=True)
class SealLine:
    """The audit trail's signed head: a label and monospaced values (the hash on one line)."""

    rows: tuple[tuple[str, str], ...]


Block = Heading | Paragraph | Table | Chart | Photos | SealLine


def _sections(doc: BulletinDocument) -> list[tuple[str, list[Block]]]:
    o = doc.overview
    period = period_text(doc.period_start, doc.period_end)
    scope = doc.scope or doc.issuing_body
    sections: list[tuple[str, list[Block]]] = []

    if doc.is_empty:
        sections.append(
            (
                "总体情况",
                [Paragraph(f"{period}，{doc.empty_note}")],
            )
        )
    else:
        severity = f"（其中{breakdown(o.findings_by_severity)}）" if o.findings_by_severity else ""
        sections.append(
            (
                "总体情况",
                [
                    Paragraph(
                        f"{period}，{scope}共组织暗访督查{o.inspection_rounds}轮，"
                        f"实地暗访{o.visits_done}次，覆盖基层单位{o.units_covered}个，"
                        f"发现并通报问题{o.findings_total}个{severity}，"
                        f"约谈干部{o.officials_interviewed}人，"
                        f"组织调整{o.adjustments}人。"
                    )
                ],
            )
        )
        sections.append(("问题分布", _distribution(doc)))
        sections.append(("典型问题", _cases(doc.cases)))
        sections.append(("约谈和组织调整", _accountability(doc)))
        sections.append(("整改进展", _rectification(doc)))
    if doc.requirement_paragraphs():
        sections.append(("工作要求", [Paragraph(text) for text in doc.requirement_paragraphs()]))
    return sections


def _distribution(doc: BulletinDocument) -> list[Block]:
    out: list[Block] = []
    if not (doc.by_county or doc.by_category):
        return [Paragraph("本期无已通报的问题。")]
    if doc.by_county:
        out.append(Paragraph(f"按县（市、区）分：{breakdown(doc.by_county)}。"))
        out.append(Chart("问题数量（按县区）", doc.by_county))
    if doc.by_category:
        out.append(Paragraph(f"按问题类别分：{breakdown(doc.by_category)}。"))
        out.append(Chart("问题数量（按类别）", doc.by_category))
    return out


def _cases(cases: tuple[Case, ...]) -> list[Block]:
    if not cases:
        return [Paragraph("本期无典型问题。")]
    out: list[Block] = []
    figure = 0
    for i, case in enumerate(cases, 1):
        out.append(Heading(2, f"（{chinese_number(i)}）{case.title}"))
        out.append(
            Paragraph(
                f"{cn_date(case.observed_on)}，暗访组在{case.county}{case.unit}发现：{case.description}"
            )
        )
        facts = [f"问题类别：{case.category}", f"严重程度：{case.severity}"]
        if case.responsible:
            facts.append(f"责任人：{'、'.join(case.responsible)}")
        if case.deadline:
            facts.append(f"整改时限：{cn_date(case.deadline)}")
        if case.status:
            facts.append(f"整改状态：{case.status}")
        out.append(Paragraph("；".join(facts) + "。"))
        if case.photos:
            figures = []
            for photo in case.photos:
                figure += 1
                figures.append(Figure(figure, photo))
            out.append(Photos(tuple(figures)))
    return out


def _accountability(doc: BulletinDocument) -> list[Block]:
    if not (doc.interviews or doc.adjustments):
        return [Paragraph("本期无约谈和组织调整事项。")]
    out: list[Block] = []
    if doc.interviews:
        out.append(Paragraph(f"本期约谈干部{len(doc.interviews)}人次：", style="body"))
        out.append(
            Table(
                ("被约谈人", "单位", "职务", "方式", "日期"),
                tuple(
                    (i.official, i.unit, i.title, i.kind, cn_date(i.held_on))
                    for i in doc.interviews
                ),
                (3, 5, 3, 3, 4),
            )
        )
    if doc.adjustments:
        out.append(Paragraph(f"本期组织调整干部{len(doc.adjustments)}人次：", style="body"))
        out.append(
            Table(
                ("干部", "单位", "调整方式", "决定文号", "生效日期"),
                tuple(
                    (a.official, a.unit, a.action, a.decision_number, cn_date(a.effective_on))
                    for a in doc.adjustments
                ),
                (3, 5, 3, 4, 4),
            )
        )
    return out


def _rectification(doc: BulletinDocument) -> list[Block]:
    r = doc.rectification
    out: list[Block] = [
        Paragraph(
            f"已整改并经验收{r.verified}个，在整改期限内{r.on_time}个，逾期未整改{r.overdue}个。"
        )
    ]
    if r.overdue_items:
        out.append(Paragraph("逾期未整改问题清单：", style="body"))
        out.append(
            Table(
                ("问题", "单位", "县区", "责任人", "整改时限", "逾期天数"),
                tuple(
                    (
                        item.title,
                        item.unit,
                        item.county,
                        item.responsible,
                        cn_date(item.deadline),
                        str(item.days_overdue),
                    )
                    for item in r.overdue_items
                ),
                (6, 5, 3, 3, 4, 2),
            )
        )
    return out


def seal_block(doc: BulletinDocument) -> list[Block]:
    head = doc.head
    if head is None:
        return []
    rows = [
        ("审计链签名头", f"第{head.tree_size}号记录"),
        ("根哈希", head.root_hex),
        ("签署时间", head.signed_at.isoformat(timespec="seconds")),
        ("密钥", head.key_id),
    ]
    if head.signature_b64:
        rows.append(("签名", head.signature_b64))
    return [SealLine(tuple(rows))]


def blocks(doc: BulletinDocument) -> list[Block]:
    """The body: correction note, the opening, the numbered sections, the seal."""
    out: list[Block] = []
    if doc.corrects:
        out.append(
            Paragraph(f"本期通报更正{doc.corrects}通报，原通报作废，以本期为准。", style="note")
        )
    out.append(Paragraph(f"现将{period_text(doc.period_start, doc.period_end)}督查情况通报如下。"))
    for n, (title, body) in enumerate(_sections(doc), 1):
        out.append(Heading(1, f"{chinese_number(n)}、{title}"))
        out.extend(body)
    out.extend(seal_block(doc))
    return out
