"""The XForm for one visit, built with pyxform from an XLSForm written as a markdown table.

Everything comes in as plain data (`VisitFormData`), so the same visit always gives the same
bytes: the form's `version` is a hash of what the form says (definition, officials CSV and
generator), and its OpenRosa `hash` is the MD5 of the XML. Design notes: docs/ODK.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

import pyxform
from pyxform.xls2xform import convert

# Bumped when the shape of the generated form changes, so every form gets a new version.
GENERATOR: Final = "duchaa-odk/1"
FORM_ID_PREFIX: Final = "duchaa-visit-"
# The main instance's root element: what a submission's root must be called.
ROOT: Final = "visit"
OFFICIALS_CSV: Final = "officials.csv"
MAX_PHOTOS: Final = 5
SEVERITIES: Final = ("minor", "major", "serious")

ZH: Final = "中文 (zh)"
EN: Final = "English (en)"

# Values that end up inside XPath string literals or choice names: a closed alphabet, so no
# quoting, no `${…}` reference and no space (select_multiple separates values by spaces).
SAFE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Columns of the survey sheet, in order; a row is a dict over these keys.
SURVEY_COLUMNS: Final = (
    "type",
    "name",
    f"label::{ZH}",
    f"label::{EN}",
    f"hint::{ZH}",
    f"hint::{EN}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{ZH}",
    f"constraint_message::{EN}",
    "calculation",
    "trigger",
    "appearance",
)
CHOICE_COLUMNS: Final = ("list_name", "name", f"label::{ZH}", f"label::{EN}", "threshold", "unit")
SETTINGS_COLUMNS: Final = ("form_id", "form_title", "version", "default_language", "instance_name")

SEVERITY_LABELS: Final = {
    "minor": ("一般", "Minor"),
    "major": ("较重", "Major"),
    "serious": ("严重", "Serious"),
}
TITLE_MAX: Final = 200


class FormBuildError(ValueError):
    """The visit's data cannot be made into a form (names the offending value)."""


@dataclass(frozen=True)
class ChecklistEntry:
    code: str
    text: str
    category: str
    threshold: Decimal | None = None
    unit_of_measure: str = ""


@dataclass(frozen=True)
class OfficialEntry:
    id: uuid.UUID
    name: str
    title: str


@dataclass(frozen=True)
class VisitFormData:
    """What the form shows and carries; datetimes are shown as given (pass local time)."""

    visit_id: uuid.UUID
    campaign_title: str
    target_name: str
    target_code: str
    window_start: datetime
    window_end: datetime
    checklist: tuple[ChecklistEntry, ...]
    officials: tuple[OfficialEntry, ...] = ()


@dataclass(frozen=True)
class MediaFile:
    filename: str
    content: bytes

    @property
    def md5(self) -> str:
        return md5_hash(self.content)


@dataclass(frozen=True)
class VisitForm:
    form_id: str
    version: str
    title: str
    definition: str  # the XLSForm as a markdown table, as given to pyxform
    xml: bytes
    officials_csv: bytes
    warnings: tuple[str, ...] = field(default=())

    @property
    def md5(self) -> str:
        """The form's OpenRosa `hash`."""
        return md5_hash(self.xml)

    @property
    def officials_csv_md5(self) -> str:
        return md5_hash(self.officials_csv)

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """The files of the form's manifest."""
        return (MediaFile(OFFICIALS_CSV, self.officials_csv),)


def md5_hash(data: bytes) -> str:
    """A file's hash as OpenRosa writes it: `md5:<hex>`."""
    # MD5 is what the protocol names; it detects change, it protects nothing.
    return "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()


def form_id_for(visit_id: uuid.UUID) -> str:
    return f"{FORM_ID_PREFIX}{visit_id}"


def visit_id_from_form_id(form_id: str) -> uuid.UUID | None:
    """The visit a form id names, or None when it is not one of ours."""
    if not form_id.startswith(FORM_ID_PREFIX):
        return None
    rest = form_id[len(FORM_ID_PREFIX) :]
    try:
        visit_id = uuid.UUID(rest)
    except ValueError:
        return None
    return visit_id if str(visit_id) == rest else None


def build_visit_form(data: VisitFormData) -> VisitForm:
    """The XForm (and its officials CSV) for one visit."""
    _check(data)
    form_id = form_id_for(data.visit_id)
    title = _text(f"{data.target_name}（{data.target_code}）· {data.campaign_title}")
    officials_csv = officials_csv_bytes(data.officials)
    body = _table("survey", SURVEY_COLUMNS, _survey_rows(data)) + _table(
        "choices", CHOICE_COLUMNS, _choice_rows(data)
    )
    settings = {
        "form_id": form_id,
        "form_title": title,
        "default_language": ZH,
        "instance_name": "concat(${target_code}, ' ', ${checkin_time})",
    }
    version = _version(body + _table("settings", SETTINGS_COLUMNS, [settings]), officials_csv)
    definition = body + _table("settings", SETTINGS_COLUMNS, [{**settings, "version": version}])
    warnings: list[str] = []
    result = convert(xlsform=definition, file_type=".md", form_name=ROOT, warnings=warnings)
    return VisitForm(
        form_id=form_id,
        version=version,
        title=title,
        definition=definition,
        xml=result.xform.encode("utf-8"),
        officials_csv=officials_csv,
        # Collect would downscale photos for `max-pixels`; evidence is kept as taken.
        warnings=tuple(w for w in warnings if "max-pixels" not in w),
    )


def officials_csv_bytes(officials: Iterable[OfficialEntry]) -> bytes:
    """The form media listing the officials: `name` is what a submission carries."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "label"])
    for official in sorted(officials, key=lambda o: (o.name, str(o.id))):
        writer.writerow([str(official.id), f"{_text(official.name)}（{_text(official.title)}）"])
    return out.getvalue().encode("utf-8")


def _version(definition: str, officials_csv: bytes) -> str:
    digest = hashlib.sha256()
    for part in (GENERATOR, pyxform.__version__, definition):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(officials_csv)
    return digest.hexdigest()[:16]


def _check(data: VisitFormData) -> None:
    if not data.checklist:
        raise FormBuildError("the campaign has no checklist items")
    if not SAFE_VALUE.fullmatch(data.target_code):
        raise FormBuildError(f"target code {data.target_code!r} is not usable in a form")
    codes = [item.code for item in data.checklist]
    for code in codes:
        if not SAFE_VALUE.fullmatch(code):
            raise FormBuildError(f"checklist code {code!r} is not usable in a form")
    if len(set(codes)) != len(codes):
        raise FormBuildError("checklist codes repeat")
    if data.window_start.tzinfo is None or data.window_end.tzinfo is None:
        raise FormBuildError("the visit window must be timezone-aware")


def _survey_rows(data: VisitFormData) -> list[dict[str, str]]:
    start = data.window_start.strftime("%Y-%m-%d %H:%M")
    end = data.window_end.strftime("%Y-%m-%d %H:%M")
    campaign, target = _text(data.campaign_title), _text(data.target_name)
    rows: list[dict[str, str]] = [
        {"type": "start", "name": "started"},
        {"type": "end", "name": "ended"},
        _fixed("visit_id", str(data.visit_id)),
        _fixed("target_code", data.target_code),
        _fixed("window_start", data.window_start.isoformat()),
        _fixed("window_end", data.window_end.isoformat()),
        _label(
            {"type": "note", "name": "intro"},
            f"督查专题：{campaign}；检查对象：{target}（{data.target_code}）；"
            f"时间窗口：{start} 至 {end}",
            f"Campaign: {campaign}; target: {target} ({data.target_code}); "
            f"window: {start} to {end}",
        ),
        _label({"type": "begin group", "name": "checkin"}, "签到", "Check-in"),
        _hint(
            _label(
                {"type": "geopoint", "name": "checkin_location", "required": "yes"},
                "签到位置",
                "Check-in location",
            ),
            "到达检查对象现场后获取位置。",
            "Capture the location on arrival at the target.",
        ),
        # The time the location was captured, set by the client when the location changes.
        {
            "type": "calculate",
            "name": "checkin_time",
            "calculation": "now()",
            "trigger": "${checkin_location}",
        },
        {"type": "end group", "name": "checkin"},
        _label({"type": "begin repeat", "name": "finding"}, "发现问题", "Finding"),
        _label(
            {"type": "select_one checklist", "name": "item", "required": "yes"},
            "检查项",
            "Checklist item",
        ),
        {
            "type": "calculate",
            "name": "threshold",
            "calculation": "instance('checklist')/root/item[name = ${item}]/threshold",
        },
        {
            "type": "calculate",
            "name": "unit",
            "calculation": "instance('checklist')/root/item[name = ${item}]/unit",
        },
        _label(
            {"type": "select_one severity", "name": "severity", "required": "yes"},
            "严重程度",
            "Severity",
        ),
        _label(
            {
                "type": "text",
                "name": "title",
                "required": "yes",
                "constraint": f"string-length(.) <= {TITLE_MAX}",
                f"constraint_message::{ZH}": f"不超过{TITLE_MAX}个字。",
                f"constraint_message::{EN}": f"At most {TITLE_MAX} characters.",
            },
            "标题",
            "Title",
        ),
        _label(
            {"type": "text", "name": "description", "appearance": "multiline"},
            "描述",
            "Description",
        ),
        _hint(
            _label(
                {"type": "decimal", "name": "measured", "relevant": "${threshold} != ''"},
                "实测值",
                "Measured value",
            ),
            "标准：${threshold} ${unit}",
            "Standard: ${threshold} ${unit}",
        ),
    ]
    for n in range(1, MAX_PHOTOS + 1):
        row = {"type": "image", "name": f"photo_{n}"}
        if n > 1:
            # Offer the next photo only once the previous one is taken.
            row["relevant"] = f"${{photo_{n - 1}}} != ''"
        rows.append(_label(row, f"照片{n}", f"Photo {n}"))
    rows += [
        _label(
            {"type": f"select_multiple_from_file {OFFICIALS_CSV}", "name": "officials"},
            "责任人",
            "Officials responsible",
        ),
        {"type": "end repeat", "name": "finding"},
    ]
    return rows


def _choice_rows(data: VisitFormData) -> list[dict[str, str]]:
    rows = []
    for item in data.checklist:
        label = _text(f"{item.code} [{item.category}] {item.text}")
        rows.append(
            {
                "list_name": "checklist",
                "name": item.code,
                f"label::{ZH}": label,
                f"label::{EN}": label,
                "threshold": "" if item.threshold is None else format(item.threshold, "f"),
                "unit": _text(item.unit_of_measure),
            }
        )
    for value, (zh, en) in SEVERITY_LABELS.items():
        rows.append(
            {"list_name": "severity", "name": value, f"label::{ZH}": zh, f"label::{EN}": en}
        )
    return rows


def _fixed(name: str, value: str) -> dict[str, str]:
    """A value the form carries back unchanged (a calculate with a string literal)."""
    if "'" in value or "${" in value:
        raise FormBuildError(f"{name} {value!r} cannot be carried in a form")
    return {"type": "calculate", "name": name, "calculation": f"'{value}'"}


def _label(row: dict[str, str], zh: str, en: str) -> dict[str, str]:
    return {**row, f"label::{ZH}": zh, f"label::{EN}": en}


def _hint(row: dict[str, str], zh: str, en: str) -> dict[str, str]:
    return {**row, f"hint::{ZH}": zh, f"hint::{EN}": en}


def _text(value: str) -> str:
    """Free text (names, titles) made inert: one line, no `${…}` reference for pyxform."""
    value = " ".join(value.split())
    # A zero-width space keeps the text as typed while pyxform no longer sees a reference.
    return value.replace("${", "$\u200b{")


def _table(sheet: str, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    lines = [f"| {sheet} |", "| | " + " | ".join(columns) + " |"]
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise AssertionError(f"columns not in {sheet}: {sorted(unknown)}")
        lines.append("| | " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    # pyxform's markdown reader splits rows on unescaped pipes and lines on newlines; free
    # text has been through _text already, and fixed text has no `${` that is not ours.
    return " ".join(value.split()).replace("|", "\\|")
