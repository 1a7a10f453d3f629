"""Parsing OpenRosa submissions: what a client sends, and a hostile corpus refused by name."""

import http.server
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from audits.odk.submission import Geopoint, SubmissionError, parse_submission
from audits.odk.xform import build_visit_form
from tests.odk.conftest import OFFICIALS, visit_data

VISIT = visit_data()
FORM = build_visit_form(VISIT)
INSTANCE = "uuid:3f1c9b7e-2a4d-4e8f-9b61-0c5d7e8f9a10"
OLD_INSTANCE = "uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CST = timezone(timedelta(hours=8))


def finding_xml(
    *,
    item="VEN-1",
    severity="major",
    title="活动场所面积不足",
    description="实测面积约150平方米，低于标准。",
    measured="150.5",
    photos=("1433121234567.jpg", "1433121299999.jpg"),
    officials=f"{OFFICIALS[0].id} {OFFICIALS[1].id}",
    extra="",
) -> str:
    photo_xml = "".join(
        f"<photo_{n}>{escape(photos[n - 1])}</photo_{n}>" if n <= len(photos) else f"<photo_{n}/>"
        for n in range(1, 6)
    )
    return (
        f"<finding><item>{escape(item)}</item><threshold>200</threshold><unit>㎡</unit>"
        f"<severity>{escape(severity)}</severity><title>{escape(title)}</title>"
        f"<description>{escape(description)}</description><measured>{escape(measured)}</measured>"
        f"{photo_xml}<officials>{escape(officials)}</officials>{extra}</finding>"
    )


def submission_xml(
    *,
    root="visit",
    form_id=FORM.form_id,
    version=FORM.version,
    visit_id=str(VISIT.visit_id),
    location="33.646520 116.978930 31.5 4.8",
    checkin_time="2015-06-02T09:41:07.120+08:00",
    findings=None,
    meta=f"<instanceID>{INSTANCE}</instanceID><instanceName>341302101201</instanceName>",
    prolog="<?xml version='1.0' ?>",
    root_attrs='xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"',
) -> bytes:
    """A submission shaped like ODK Collect's (no default namespace, meta without orx:)."""
    if findings is None:
        findings = [
            finding_xml(),
            finding_xml(
                item="EDU-1",
                severity="minor",
                title="手册未发放到人",
                description="",
                measured="",
                photos=("1433121300000.jpg",),
                officials=str(OFFICIALS[2].id),
            ),
        ]
    meta_xml = f"<meta>{meta}</meta>" if meta is not None else ""
    return (
        f'{prolog}<{root} id="{form_id}" version="{version}" {root_attrs}>'
        "<started>2015-06-02T09:40:00.000+08:00</started>"
        "<ended>2015-06-02T10:30:00.000+08:00</ended>"
        f"<visit_id>{visit_id}</visit_id><target_code>341302101201</target_code>"
        "<window_start>2015-06-01T08:00:00+08:00</window_start>"
        "<window_end>2015-06-03T18:00:00+08:00</window_end><intro/>"
        f"<checkin><checkin_location>{location}</checkin_location>"
        f"<checkin_time>{checkin_time}</checkin_time></checkin>"
        f"{''.join(findings)}{meta_xml}</{root}>"
    ).encode()


def refused(data: bytes, **kwargs) -> SubmissionError:
    with pytest.raises(SubmissionError) as caught:
        parse_submission(data, **kwargs)
    return caught.value


def test_a_collect_submission_becomes_plain_data():
    sub = parse_submission(submission_xml(), form_id=FORM.form_id)

    assert sub.instance_id == INSTANCE
    assert sub.deprecated_id is None
    assert (sub.form_id, sub.form_version, sub.visit_id) == (
        FORM.form_id,
        FORM.version,
        VISIT.visit_id,
    )
    assert sub.checkin_location == Geopoint(33.64652, 116.97893, 31.5, 4.8)
    assert sub.checkin_time == datetime(2015, 6, 2, 9, 41, 7, 120000, tzinfo=CST)
    assert sub.started_at == datetime(2015, 6, 2, 9, 40, tzinfo=CST)
    assert sub.ended_at == datetime(2015, 6, 2, 10, 30, tzinfo=CST)
    first, second = sub.findings
    assert (first.number, first.item_code, first.severity) == (1, "VEN-1", "major")
    assert first.title == "活动场所面积不足"
    assert first.description == "实测面积约150平方米，低于标准。"
    assert first.measured_value == Decimal("150.50")
    assert first.photos == ("1433121234567.jpg", "1433121299999.jpg")
    assert first.official_ids == (OFFICIALS[0].id, OFFICIALS[1].id)
    assert (second.item_code, second.severity, second.measured_value) == ("EDU-1", "minor", None)
    assert second.description == ""
    assert second.official_ids == (OFFICIALS[2].id,)
    assert sub.attachments == ("1433121234567.jpg", "1433121299999.jpg", "1433121300000.jpg")


def test_an_edited_resubmission_names_the_instance_it_replaces():
    sub = parse_submission(
        submission_xml(
            meta=f"<instanceID>{INSTANCE.upper().replace('UUID', 'uuid')}</instanceID>"
            f"<deprecatedID>{OLD_INSTANCE}</deprecatedID>"
        )
    )
    assert sub.instance_id == INSTANCE
    assert sub.deprecated_id == OLD_INSTANCE


def test_namespaces_do_not_matter_only_names():
    """Enketo keeps the XForms default namespace; some clients put meta in orx:."""
    data = submission_xml(
        root_attrs='xmlns="http://www.w3.org/2002/xforms" xmlns:orx="http://openrosa.org/xforms"',
        meta=f"<orx:instanceID>{INSTANCE}</orx:instanceID>",
    )
    assert parse_submission(data).instance_id == INSTANCE


def test_blank_repeats_are_skipped_and_omitted_fields_are_empty():
    """Clients start with one empty finding; JavaRosa drops non-relevant nodes entirely."""
    blank = finding_xml(
        item="", severity="", title="", description="", measured="", photos=(), officials=""
    )
    sparse = "<finding><item>RESP-1</item><severity>serious</severity><title>未签</title></finding>"
    sub = parse_submission(submission_xml(findings=[blank, sparse]))
    (finding,) = sub.findings
    assert (finding.number, finding.item_code, finding.photos, finding.official_ids) == (
        2,
        "RESP-1",
        (),
        (),
    )
    assert finding.measured_value is None


def test_no_checkin_and_no_findings_is_still_a_submission():
    data = submission_xml(location="", checkin_time="", findings=[])
    sub = parse_submission(data)
    assert (sub.checkin_location, sub.checkin_time, sub.findings) == (None, None, ())


# ---- the hostile corpus --------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE visit [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><visit id="x"><visit_id>&lol9;</visit_id></visit>'
)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY leak 'pwned'>")

    def log_message(self, *args):
        pass


@pytest.fixture
def listener():
    """A loopback HTTP server that records any fetch an external entity would make."""
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


def test_billion_laughs_is_refused_before_any_expansion():
    started = time.perf_counter()
    error = refused(BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    assert (error.field, error.code) == ("xml_submission_file", "forbidden_xml")
    assert error.detail == "refused: DTDForbidden"
    # Expanded, &lol9; is 10⁹ "lol"s: 3 GB. Refused, it is the DTD seen and stopped.
    assert elapsed < 0.5


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE visit [<!ENTITY x SYSTEM "{url}/entity">]><visit id="{form}"><visit_id>&x;</visit_id></visit>',
        '<!DOCTYPE visit SYSTEM "{url}/dtd"><visit id="{form}"/>',
        '<!DOCTYPE visit [<!ENTITY % p SYSTEM "{url}/param"> %p;]><visit id="{form}"/>',
        '<!DOCTYPE visit [<!ENTITY x SYSTEM "file:///etc/passwd">]><visit id="{form}"><visit_id>&x;</visit_id></visit>',
        '<!DOCTYPE visit [<!ENTITY x "internal">]><visit id="{form}"><visit_id>&x;</visit_id></visit>',
        '<!DOCTYPE visit><visit id="{form}"/>',
    ],
    ids=[
        "external-http",
        "external-dtd",
        "parameter-entity",
        "external-file",
        "internal",
        "bare-dtd",
    ],
)
def test_dtds_and_entities_are_refused_and_nothing_is_fetched(listener, template):
    url, hits = listener
    data = template.format(url=url, form=FORM.form_id).encode()
    error = refused(data)
    assert (error.field, error.code) == ("xml_submission_file", "forbidden_xml")
    # Refused at the document type declaration, before any entity is defined or resolved.
    assert error.detail == "refused: DTDForbidden"
    assert hits == []


def test_xinclude_is_not_processed():
    data = submission_xml(
        findings=[
            finding_xml(
                title="x",
                extra='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
            )
        ]
    )
    sub = parse_submission(data)
    assert sub.findings[0].title == "x"
    assert "root:" not in repr(sub)


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (b"", "xml_submission_file", "malformed"),
        (b"not xml at all", "xml_submission_file", "malformed"),
        (submission_xml()[:-20], "xml_submission_file", "malformed"),
        (b"\xff\xfe<\x00v\x00", "xml_submission_file", "malformed"),
        (submission_xml(root="data"), "xml_submission_file", "wrong_form"),
        (submission_xml(form_id="build_survey_1433"), "@id", "wrong_form"),
        (submission_xml(form_id=f"duchaa-visit-{uuid.uuid4()}"), "visit_id", "wrong_form"),
        (submission_xml(visit_id=str(uuid.uuid4())), "visit_id", "wrong_form"),
        (submission_xml(meta=None), "meta/instanceID", "missing"),
        (submission_xml(meta="<instanceName>x</instanceName>"), "meta/instanceID", "missing"),
        (submission_xml(meta="<instanceID>12345</instanceID>"), "meta/instanceID", "invalid"),
        (
            submission_xml(
                meta=f"<instanceID>{INSTANCE}</instanceID><instanceID>{OLD_INSTANCE}</instanceID>"
            ),
            "meta/instanceID",
            "repeated",
        ),
        (
            submission_xml(
                meta=f"<instanceID>{INSTANCE}</instanceID><deprecatedID>{INSTANCE}</deprecatedID>"
            ),
            "meta/deprecatedID",
            "invalid",
        ),
        (
            submission_xml(
                meta=f"<instanceID>{INSTANCE}</instanceID><deprecatedID>old</deprecatedID>"
            ),
            "meta/deprecatedID",
            "invalid",
        ),
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "utf16-garbage",
        "wrong-root",
        "foreign-form",
        "form-visit-mismatch",
        "visit-id-mismatch",
        "no-meta",
        "no-instance-id",
        "bad-instance-id",
        "two-instance-ids",
        "deprecated-is-self",
        "bad-deprecated-id",
    ],
)
def test_malformed_or_foreign_submissions_are_refused_by_name(data, field, code):
    error = refused(data)
    assert (error.field, error.code) == (field, code)


def test_a_submission_for_another_form_than_expected_is_refused():
    other = build_visit_form(visit_data(visit_id=uuid.uuid4()))
    error = refused(submission_xml(), form_id=other.form_id)
    assert (error.field, error.code) == ("@id", "wrong_form")


def test_oversized_bodies_are_refused_before_parsing():
    huge = submission_xml(findings=[finding_xml(description="很" * 400_000)])
    assert len(huge) > 1024 * 1024
    started = time.perf_counter()
    error = refused(huge)
    assert (error.field, error.code) == ("xml_submission_file", "too_large")
    assert time.perf_counter() - started < 0.1
    small = refused(submission_xml(), max_bytes=100)
    assert small.code == "too_large"


@pytest.mark.parametrize(
    ("finding", "field", "code"),
    [
        ({"title": "长" * 201}, "finding[1]/title", "too_long"),
        ({"description": "x" * 20_001}, "finding[1]/description", "too_long"),
        ({"title": ""}, "finding[1]/title", "missing"),
        ({"item": ""}, "finding[1]/item", "missing"),
        ({"severity": ""}, "finding[1]/severity", "missing"),
        ({"severity": "critical"}, "finding[1]/severity", "invalid"),
        ({"item": "VEN 1"}, "finding[1]/item", "invalid"),
        ({"measured": "abc"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "NaN"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "Infinity"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "1.234"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "1e20"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "1_000"}, "finding[1]/measured", "invalid_number"),
        ({"measured": "١٥٠"}, "finding[1]/measured", "invalid_number"),
        ({"officials": "not-an-id"}, "finding[1]/officials", "invalid"),
        (
            {"officials": " ".join(str(uuid.uuid4()) for _ in range(51))},
            "finding[1]/officials",
            "too_many",
        ),
        ({"photos": ("../../etc/passwd",)}, "finding[1]/photo_1", "invalid"),
        ({"photos": ("a\\b.jpg",)}, "finding[1]/photo_1", "invalid"),
        ({"photos": ("ok.jpg", "..")}, "finding[1]/photo_2", "invalid"),
        ({"photos": ("x" * 256,)}, "finding[1]/photo_1", "too_long"),
        ({"extra": "<title>again</title>"}, "finding[1]/title", "repeated"),
    ],
)
def test_bad_finding_fields_are_refused_by_name(finding, field, code):
    error = refused(submission_xml(findings=[finding_xml(), finding_xml(**finding)]))
    assert (error.field.replace("[2]", "[1]"), error.code) == (field, code)
    assert error.field.startswith("finding[2]")


def test_markup_typed_as_text_stays_text():
    sub = parse_submission(submission_xml(findings=[finding_xml(title="<b>bold</b> & co")]))
    assert sub.findings[0].title == "<b>bold</b> & co"


def test_element_markup_inside_a_text_field_is_refused():
    data = submission_xml(
        findings=[
            finding_xml().replace("<title>活动场所面积不足</title>", "<title><b>x</b></title>")
        ]
    )
    error = refused(data)
    assert (error.field, error.code) == ("finding[1]/title", "invalid")


def test_a_photo_used_twice_is_refused():
    data = submission_xml(
        findings=[finding_xml(photos=("same.jpg",)), finding_xml(photos=("same.jpg",))]
    )
    assert refused(data).code == "duplicate_attachment"


def test_too_many_findings_are_refused():
    data = submission_xml(findings=[finding_xml(photos=())] * 201)
    error = refused(data)
    assert (error.field, error.code) == ("finding", "too_many")


@pytest.mark.parametrize(
    "location",
    [
        "abc",
        "33.6",
        "91 116",
        "33.6 181",
        "33.6 116.9 10 5 7",
        "NaN 116",
        "1e999 116",
        "33.6 116.9 10 -1",
        "٣٣ ١١٦",
        "3_3 116",
        "33.6,116.9",
    ],
)
def test_bad_geopoints_are_refused(location):
    error = refused(submission_xml(location=location))
    assert (error.field, error.code) == ("checkin/checkin_location", "invalid_geopoint")


@pytest.mark.parametrize(
    "value",
    [
        "2015-06-02",
        "2015-06-02T09:41:07",
        "2015-02-30T09:41:07+08:00",
        "2015-06-02T25:41:07+08:00",
        "yesterday",
        "2015-06-02 09:41:07+08:00",
        "１２０１５-06-02T09:41:07+08:00",
    ],
)
def test_bad_times_are_refused(value):
    error = refused(submission_xml(checkin_time=value))
    assert (error.field, error.code) == ("checkin/checkin_time", "invalid_datetime")


def test_a_time_without_a_place_is_refused():
    error = refused(submission_xml(location=""))
    assert (error.field, error.code) == ("checkin/checkin_location", "missing")


def test_small_geopoints_as_java_writes_them_are_accepted():
    sub = parse_submission(submission_xml(location="1.0E-4 -2.5E-5 0.0 5.0"))
    assert sub.checkin_location == Geopoint(0.0001, -0.000025, 0.0, 5.0)
