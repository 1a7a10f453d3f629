"""An OpenRosa submission of a visit form (audits/odk/xform.py), parsed into plain data.

The XML comes from the network, so it is parsed with defusedxml: a document type
declaration, any entity declaration and any external reference are refused before anything
is expanded or fetched, and the size is checked before parsing. Every refusal is a
`SubmissionError` naming the field (`finding[2]/severity`) and a snake_case code.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from audits.odk.xform import MAX_PHOTOS, ROOT, SEVERITIES, TITLE_MAX, visit_id_from_form_id

MAX_XML_BYTES: Final = 1024 * 1024
MAX_FINDINGS: Final = 200
MAX_DESCRIPTION: Final = 20_000
MAX_OFFICIALS: Final = 50
MAX_FILENAME: Final = 255
MAX_CODE: Final = 64
# ChecklistItem/Finding store measured values as NUMERIC(14, 2).
MEASURED_MAX_DIGITS: Final = 14
MEASURED_PLACES: Final = 2

INSTANCE_ID = re.compile(r"uuid:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# ASCII only: Python's float() and Decimal() also take other scripts' digits and `1_000`.
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
# What Collect and Enketo write (xsd:dateTime with an offset); fromisoformat checks the rest.
DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
# What a client names an attachment: one path segment, printable, not `.`/`..`.
FILENAME = re.compile(r"[^/\\\x00-\x1f\x7f]+")


class SubmissionError(ValueError):
    """A submission that cannot be taken, with the field at fault."""

    def __init__(self, field: str, code: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Geopoint:
    lat: float
    lon: float
    altitude_m: float | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True)
class FindingData:
    number: int  # 1-based position among the submission's findings
    item_code: str
    severity: str
    title: str
    description: str
    measured_value: Decimal | None
    photos: tuple[str, ...]  # attachment filenames, in the order of the photo questions
    official_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Submission:
    instance_id: str
    deprecated_id: str | None
    form_id: str
    form_version: str
    visit_id: uuid.UUID
    checkin_location: Geopoint | None
    checkin_time: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    findings: tuple[FindingData, ...]

    @property
    def attachments(self) -> tuple[str, ...]:
        """Every attachment filename the submission refers to."""
        return tuple(name for finding in self.findings for name in finding.photos)


def parse_submission(
    data: bytes, *, form_id: str | None = None, max_bytes: int = MAX_XML_BYTES
) -> Submission:
    """Parse `xml_submission_file`; `form_id`, when given, is the form it must belong to."""
    root = _parse_xml(data, max_bytes)
    if _local(root.tag) != ROOT:
        raise SubmissionError("xml_submission_file", "wrong_form", f"root element must be <{ROOT}>")
    found_form_id = (root.get("id") or "").strip()
    visit_id = visit_id_from_form_id(found_form_id)
    if visit_id is None:
        raise SubmissionError("@id", "wrong_form", "not a form of this server")
    if form_id is not None and found_form_id != form_id:
        raise SubmissionError("@id", "wrong_form", "submission is for another form")
    carried = _text(root, "visit_id", 64)
    if carried != str(visit_id):
        raise SubmissionError("visit_id", "wrong_form", "does not match the form id")

    meta = _child(root, "meta")
    if meta is None:
        raise SubmissionError("meta/instanceID", "missing", "is required")
    instance_id = _instance_id(meta, "instanceID", required=True)
    deprecated_id = _instance_id(meta, "deprecatedID", required=False)
    if deprecated_id is not None and deprecated_id == instance_id:
        raise SubmissionError("meta/deprecatedID", "invalid", "equals the instanceID")

    checkin = _child(root, "checkin")
    location = time = None
    if checkin is not None:
        location = _geopoint(_text(checkin, "checkin_location", 200), "checkin/checkin_location")
        time = _datetime(_text(checkin, "checkin_time", 64), "checkin/checkin_time")
    if location is None and time is not None:
        raise SubmissionError("checkin/checkin_location", "missing", "a check-in needs a place")

    findings = []
    elements = _children(root, "finding")
    if len(elements) > MAX_FINDINGS:
        raise SubmissionError("finding", "too_many", f"at most {MAX_FINDINGS} findings")
    for position, element in enumerate(elements, start=1):
        finding = _finding(element, position)
        if finding is not None:
            findings.append(finding)
    names = [name for finding in findings for name in finding.photos]
    if len(set(names)) != len(names):
        raise SubmissionError("finding", "duplicate_attachment", "a photo is used twice")

    return Submission(
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        form_id=found_form_id,
        form_version=(root.get("version") or "").strip(),
        visit_id=visit_id,
        checkin_location=location,
        checkin_time=time,
        started_at=_datetime(_text(root, "started", 64), "started"),
        ended_at=_datetime(_text(root, "ended", 64), "ended"),
        findings=tuple(findings),
    )


def _parse_xml(data: bytes, max_bytes: int) -> Element:
    if len(data) > max_bytes:
        raise SubmissionError("xml_submission_file", "too_large", f"over {max_bytes} bytes")
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SubmissionError(
            "xml_submission_file", "forbidden_xml", f"refused: {type(exc).__name__}"
        ) from exc
    except ParseError as exc:
        raise SubmissionError("xml_submission_file", "malformed", str(exc)) from exc


def _finding(element: Element, number: int) -> FindingData | None:
    where = f"finding[{number}]"
    fields = {
        name: _text(element, name, limit, where)
        for name, limit in (
            ("item", MAX_CODE),
            ("severity", 16),
            ("title", TITLE_MAX),
            ("description", MAX_DESCRIPTION),
            ("measured", 64),
            ("officials", 4096),
            *((f"photo_{n}", MAX_FILENAME) for n in range(1, MAX_PHOTOS + 1)),
        )
    }
    if not any(fields.values()):
        # A repeat left blank: clients start the form with one empty finding.
        return None
    for name in ("item", "severity", "title"):
        if not fields[name]:
            raise SubmissionError(f"{where}/{name}", "missing", "is required")
    if fields["severity"] not in SEVERITIES:
        raise SubmissionError(f"{where}/severity", "invalid", "not one of minor, major, serious")
    if any(c.isspace() for c in fields["item"]):
        raise SubmissionError(f"{where}/item", "invalid", "not a checklist code")
    photos = []
    for n in range(1, MAX_PHOTOS + 1):
        name = fields[f"photo_{n}"]
        if name:
            if not FILENAME.fullmatch(name) or name in (".", ".."):
                raise SubmissionError(f"{where}/photo_{n}", "invalid", "not a plain file name")
            photos.append(name)
    return FindingData(
        number=number,
        item_code=fields["item"],
        severity=fields["severity"],
        title=fields["title"],
        description=fields["description"],
        measured_value=_decimal(fields["measured"], f"{where}/measured"),
        photos=tuple(photos),
        official_ids=_uuids(fields["officials"], f"{where}/officials"),
    )


def _instance_id(meta: Element, name: str, *, required: bool) -> str | None:
    value = _text(meta, name, 64, "meta")
    if not value:
        if required:
            raise SubmissionError(f"meta/{name}", "missing", "is required")
        return None
    if not INSTANCE_ID.fullmatch(value):
        raise SubmissionError(f"meta/{name}", "invalid", "must be uuid:<UUID>")
    return value.lower()


def _geopoint(value: str, where: str) -> Geopoint | None:
    if not value:
        return None
    parts = value.split()
    if not 2 <= len(parts) <= 4 or not all(NUMBER.fullmatch(part) for part in parts):
        raise SubmissionError(where, "invalid_geopoint", "must be 'lat lon [alt [accuracy]]'")
    numbers = [float(part) for part in parts]
    if not all(math.isfinite(n) for n in numbers):
        raise SubmissionError(where, "invalid_geopoint", "not finite numbers")
    lat, lon = numbers[0], numbers[1]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SubmissionError(where, "invalid_geopoint", "latitude or longitude out of range")
    altitude = numbers[2] if len(numbers) > 2 else None
    accuracy = numbers[3] if len(numbers) > 3 else None
    if accuracy is not None and accuracy < 0:
        raise SubmissionError(where, "invalid_geopoint", "accuracy cannot be negative")
    return Geopoint(lat=lat, lon=lon, altitude_m=altitude, accuracy_m=accuracy)


def _datetime(value: str, where: str) -> datetime | None:
    if not value:
        return None
    if not DATETIME.fullmatch(value):
        raise SubmissionError(where, "invalid_datetime", "not an ISO 8601 time with UTC offset")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise SubmissionError(where, "invalid_datetime", "not a real date and time") from exc


def _decimal(value: str, where: str) -> Decimal | None:
    if not value:
        return None
    if not NUMBER.fullmatch(value):
        raise SubmissionError(where, "invalid_number", "not a number")
    number = Decimal(value)
    limit = Decimal(10) ** (MEASURED_MAX_DIGITS - MEASURED_PLACES)
    step = Decimal(1).scaleb(-MEASURED_PLACES)
    if abs(number) >= limit or number != number.quantize(step):
        raise SubmissionError(
            where,
            "invalid_number",
            f"at most {MEASURED_MAX_DIGITS} digits, {MEASURED_PLACES} after the point",
        )
    return number.quantize(step)


def _uuids(value: str, where: str) -> tuple[uuid.UUID, ...]:
    ids: list[uuid.UUID] = []
    for part in value.split():
        try:
            parsed = uuid.UUID(part)
        except ValueError as exc:
            raise SubmissionError(where, "invalid", f"{part[:40]!r} is not an id") from exc
        if parsed not in ids:
            ids.append(parsed)
    if len(ids) > MAX_OFFICIALS:
        raise SubmissionError(where, "too_many", f"at most {MAX_OFFICIALS} officials")
    return tuple(ids)


def _text(parent: Element, name: str, limit: int, where: str = "") -> str:
    """The stripped text of the one child `name` ('' when absent)."""
    path = f"{where}/{name}" if where else name
    found = _children(parent, name)
    if not found:
        return ""
    if len(found) > 1:
        raise SubmissionError(path, "repeated", "appears more than once")
    element = found[0]
    if len(element):
        raise SubmissionError(path, "invalid", "must hold text, not elements")
    value = (element.text or "").strip()
    if len(value) > limit:
        raise SubmissionError(path, "too_long", f"at most {limit} characters")
    return value


def _child(parent: Element, name: str) -> Element | None:
    found = _children(parent, name)
    if len(found) > 1:
        raise SubmissionError(name, "repeated", "appears more than once")
    return found[0] if found else None


def _children(parent: Element, name: str) -> list[Element]:
    # Clients differ in namespaces (none, the XForms default, orx: for meta); names decide.
    return [child for child in parent if isinstance(child.tag, str) and _local(child.tag) == name]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
