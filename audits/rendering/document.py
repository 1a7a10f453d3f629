"""One bulletin (督查通报) as plain data: what the renderers print, already resolved.

The compile step (database, visibility, wording) builds a `BulletinDocument`; the renderers
(`pdf.render_pdf`, `docx.render_docx`) only lay it out. Nothing here touches the database,
so a document can be built by hand in tests and benchmarks. Strings are printed as text,
never interpreted as markup.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

MAX_PHOTOS_PER_CASE = 2


@dataclass(frozen=True)
class Count:
    """One bar of a chart or one line of a breakdown: a label and how many."""

    label: str
    count: int

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"negative count for {self.label!r}")


@dataclass(frozen=True)
class Overview:
    """The figures at the top of the bulletin, for the period and the scope."""

    inspection_rounds: int = 0  # campaigns (暗访轮次) with a visit in the period
    visits_done: int = 0
    units_covered: int = 0
    findings_total: int = 0
    findings_by_severity: tuple[Count, ...] = ()  # e.g. (Count("严重", 3), Count("一般", 17))
    officials_interviewed: int = 0
    adjustments: int = 0

    @property
    def is_empty(self) -> bool:
        return not (
            self.inspection_rounds
            or self.visits_done
            or self.units_covered
            or self.findings_total
            or self.officials_interviewed
            or self.adjustments
        )


@dataclass(frozen=True)
class Photo:
    """An evidence photo: the JPEG bytes of the stored preview (never the original)."""

    jpeg: bytes
    caption: str = ""

    def __post_init__(self) -> None:
        if not self.jpeg.startswith(b"\xff\xd8"):
            raise ValueError("a bulletin photo must be the JPEG preview")

    @functools.cached_property
    def printed(self) -> bytes:
        """The preview reduced to print size; computed once for the PDF and the DOCX."""
        from audits.rendering.images import print_jpeg

        return print_jpeg(self.jpeg)


@dataclass(frozen=True)
class Case:
    """A typical case (典型问题): one published finding told in full."""

    title: str
    unit: str
    county: str
    category: str
    severity: str  # the label, e.g. "严重"
    description: str
    observed_on: date
    responsible: tuple[str, ...] = ()  # officials held responsible, e.g. ("张堃（支部书记）",)
    deadline: date | None = None  # rectification deadline
    status: str = ""  # e.g. "整改中", "已整改"
    photos: tuple[Photo, ...] = ()

    def __post_init__(self) -> None:
        if len(self.photos) > MAX_PHOTOS_PER_CASE:
            raise ValueError(f"at most {MAX_PHOTOS_PER_CASE} photos per case")


@dataclass(frozen=True)
class Interview:
    """An interview (约谈) held with an official in the period."""

    official: str
    unit: str
    title: str  # the official's position, e.g. "党委书记"
    kind: str  # e.g. "提醒谈话", "诫勉谈话"
    held_on: date


@dataclass(frozen=True)
class Adjustment:
    """An organisational adjustment (组织调整) decided in the period."""

    official: str
    unit: str
    action: str  # e.g. "免职", "调离岗位"
    decision_number: str  # e.g. "宿组干〔2015〕12号"
    effective_on: date


@dataclass(frozen=True)
class OverdueItem:
    """A finding whose rectification deadline has passed without verification."""

    title: str
    unit: str
    county: str
    responsible: str
    deadline: date
    days_overdue: int


@dataclass(frozen=True)
class Rectification:
    """Rectification progress of the findings in scope."""

    verified: int = 0
    on_time: int = 0  # still open, deadline not yet passed
    overdue: int = 0
    overdue_items: tuple[OverdueItem, ...] = ()


@dataclass(frozen=True)
class SealedHead:
    """The audit trail's signed head at issue time (audits.trail.seal.SignedHead, printed)."""

    tree_size: int
    root_hex: str
    signed_at: datetime
    key_id: str
    signature_b64: str = ""

    def __post_init__(self) -> None:
        if len(self.root_hex) != 64 or any(c not in "0123456789abcdef" for c in self.root_hex):
            raise ValueError("root_hex must be 64 lower-case hex digits")

    @classmethod
    def of(cls, head: Any) -> SealedHead:
        """From `audits.trail.seal.SignedHead` (tree_size, root bytes, signed_at, key_id,
        signature bytes), e.g. `SealedHead.of(seal.current_head())`."""
        return cls(
            tree_size=head.tree_size,
            root_hex=head.root.hex(),
            signed_at=head.signed_at,
            key_id=head.key_id,
            signature_b64=base64.b64encode(head.signature).decode(),
        )


@dataclass(frozen=True)
class Distribution:
    """Who receives the bulletin: 主送 (addressed to) and 抄送 (copied to)."""

    main_to: tuple[str, ...] = ()
    copy_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulletinDocument:
    """Everything one bulletin prints, in the order it prints it."""

    issuing_body: str  # 发文机关, e.g. "中共宿州市委组织部"
    heading: str  # 标题, e.g. "关于2015年上半年基层党建工作暗访情况的通报"
    issued_on: date  # the date printed in the masthead and the colophon
    period_start: date
    period_end: date
    title: str = "督查通报"  # the masthead
    year: int | None = None  # None with number None: a draft
    number: int | None = None  # 第N期 within the issuing body's year
    scope: str = ""  # the units in scope, e.g. "全市" or "砀山县"
    corrects: str | None = None  # the bulletin a correction replaces, e.g. "2015年第3期"
    overview: Overview = field(default_factory=Overview)
    by_county: tuple[Count, ...] = ()
    by_category: tuple[Count, ...] = ()
    cases: tuple[Case, ...] = ()
    interviews: tuple[Interview, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    rectification: Rectification = field(default_factory=Rectification)
    requirements: str = ""  # written by the planner; blank lines or newlines part paragraphs
    distribution: Distribution = field(default_factory=Distribution)
    head: SealedHead | None = None
    empty_note: str = "本期督查范围内无已发布的督查发现，无约谈和组织调整事项。"
    printed_by: str = ""  # 印发机关 in the colophon; the issuing body when blank

    def __post_init__(self) -> None:
        if (self.year is None) != (self.number is None):
            raise ValueError("year and number are given together (issued) or not at all (draft)")
        if self.number is not None and self.number < 1:
            raise ValueError("bulletin numbers start at 1")
        if self.period_end < self.period_start:
            raise ValueError("the period ends before it starts")

    @property
    def is_draft(self) -> bool:
        return self.number is None

    @property
    def is_empty(self) -> bool:
        """Nothing happened in the period: the bulletin says so instead of empty sections."""
        return (
            self.overview.is_empty
            and not self.cases
            and not self.interviews
            and not self.adjustments
            and not (self.rectification.verified or self.rectification.overdue)
            and not self.rectification.on_time
        )

    def requirement_paragraphs(self) -> list[str]:
        """The requirements text as paragraphs: one per non-blank line."""
        return [line.strip() for line in self.requirements.splitlines() if line.strip()]
