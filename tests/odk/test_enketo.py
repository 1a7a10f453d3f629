"""A real ODK client fills the generated form: Enketo (enketo-transformer + enketo-core) in
headless Chromium finds it through the form list and manifest, renders it, is filled in like
an inspector would, and its record and photos must parse back field for field."""

import base64
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from audits.odk.submission import Geopoint, parse_submission
from audits.odk.xform import build_visit_form
from tests.odk.conftest import OFFICIALS, SHANGHAI, visit_data
from tests.photos.make_corpus import camera_jpeg

pytestmark = pytest.mark.browser

FINDINGS = "section.or-repeat[name='/visit/finding']"


def open_form(page, stub, form) -> dict:
    stub.publish(form)
    return page.evaluate(
        "([url, id]) => window.harness.open(url, id)", [f"{stub.url}/formList", form.form_id]
    )


def choose(scope, name: str, value: str) -> None:
    scope.locator(f"input[data-name='{name}'][value='{value}']").check()


def fill_finding(scope, *, item, severity, title, description, measured, photos, officials):
    choose(scope, "/visit/finding/item", item)
    choose(scope, "/visit/finding/severity", severity)
    scope.locator("input[name='/visit/finding/title']").fill(title)
    scope.locator("textarea[name='/visit/finding/description']").fill(description)
    if measured is not None:
        scope.locator("input[name='/visit/finding/measured']").fill(measured)
    for n, (name, content) in enumerate(photos, start=1):
        scope.locator(f"input[type=file][name='/visit/finding/photo_{n}']").set_input_files(
            files=[{"name": name, "mimeType": "image/jpeg", "buffer": content}]
        )
    for official in officials:
        scope.locator(f"input[name='/visit/finding/officials'][value='{official.id}']").check()


def test_enketo_fills_the_form_and_every_field_round_trips(enketo, openrosa_stub):
    visit = visit_data()
    form = build_visit_form(visit)
    opened = open_form(enketo, openrosa_stub, form)
    assert opened["loadErrors"] == []
    assert opened["version"] == form.version
    assert opened["languages"] == ["zh", "en"]
    # It came the way a client fetches: list, XForm, manifest, the CSV the manifest names.
    fetched = [
        path for path, headers in openrosa_stub.requests if headers.get("X-OpenRosa-Version")
    ]
    assert fetched == [
        "/formList",
        f"/forms/{form.form_id}/manifest",
        f"/forms/{form.form_id}/media/officials.csv",
        f"/forms/{form.form_id}.xml",
    ]

    # Chinese first, English on request.
    severity = enketo.locator(f"{FINDINGS} >> text=严重程度")
    assert severity.first.is_visible()
    enketo.select_option("#form-languages", "en")
    assert enketo.locator(f"{FINDINGS} .question-label.active", has_text="Severity").count() == 1
    enketo.select_option("#form-languages", "zh")

    # Check in: the point typed in (no map tiles, no network), the time set by the form.
    before = datetime.now(SHANGHAI).replace(microsecond=0)
    geo = enketo.locator(".geopicker")
    for field, value in (
        ("lat", "33.64652"),
        ("long", "116.97893"),
        ("alt", "31.5"),
        ("acc", "4.8"),
    ):
        geo.locator(f"input[name='{field}']").fill(value)
    geo.locator("input[name='acc']").dispatch_event("change")

    first = enketo.locator(FINDINGS).nth(0)
    measured = first.locator("input[name='/visit/finding/measured']")
    assert measured.is_disabled()  # no item chosen yet: no threshold, nothing to measure
    taken = datetime(2015, 6, 2, 9, 45, tzinfo=SHANGHAI)
    photo_a = camera_jpeg(11, when=taken, lat=33.64652, lon=116.97893)
    photo_b = camera_jpeg(12, when=taken, lat=33.64652, lon=116.97893)
    photo_c = camera_jpeg(13, when=taken, lat=33.64652, lon=116.97893)
    fill_finding(
        first,
        item="VEN-1",
        severity="major",
        title="活动场所面积不足",
        description="实测面积约150.5平方米，低于200平方米的标准。",
        measured="150.5",
        photos=[("IMG_0001.jpg", photo_a), ("IMG_0002.jpg", photo_b)],
        officials=OFFICIALS[:2],
    )
    # The measured value shows the chosen item's standard.
    assert first.locator(".or-hint.active").inner_text().split() == ["标准：200", "㎡"]
    assert first.locator("input[type=file][name='/visit/finding/photo_3']").is_enabled()

    enketo.locator("button.add-repeat-btn").click()
    second = enketo.locator(FINDINGS).nth(1)
    fill_finding(
        second,
        item="EDU-1",
        severity="minor",
        title="党建手册未发放到人",
        description="书记手中无手册。",
        measured=None,
        photos=[("IMG_0003.jpg", photo_c)],
        officials=OFFICIALS[2:],
    )
    # An item without a threshold asks for no measured value.
    assert second.locator("input[name='/visit/finding/measured']").is_disabled()

    record = enketo.evaluate("() => window.harness.record()")
    after = datetime.now(SHANGHAI)
    assert record["valid"], record.get("invalid")

    sub = parse_submission(record["xml"].encode("utf-8"), form_id=form.form_id)
    assert sub.instance_id == record["instanceID"]
    assert sub.deprecated_id is None
    assert (sub.form_version, sub.visit_id) == (form.version, visit.visit_id)
    assert sub.checkin_location == Geopoint(33.64652, 116.97893, 31.5, 4.8)
    assert before <= sub.checkin_time <= after
    assert sub.checkin_time.utcoffset() == timedelta(hours=8)
    assert sub.started_at <= sub.checkin_time <= sub.ended_at

    one, two = sub.findings
    assert (one.item_code, one.severity, one.title) == ("VEN-1", "major", "活动场所面积不足")
    assert one.description == "实测面积约150.5平方米，低于200平方米的标准。"
    assert one.measured_value == Decimal("150.5")
    assert set(one.official_ids) == {o.id for o in OFFICIALS[:2]}
    assert (two.item_code, two.severity, two.title) == ("EDU-1", "minor", "党建手册未发放到人")
    assert two.description == "书记手中无手册。"
    assert two.measured_value is None
    assert two.official_ids == (OFFICIALS[2].id,)

    # The record names its photos; the files Enketo hands over carry those names and the
    # very bytes that were attached.
    files = {f["name"]: base64.b64decode(f["base64"]) for f in record["files"]}
    assert {f["type"] for f in record["files"]} == {"image/jpeg"}
    assert (len(one.photos), len(two.photos)) == (2, 1)
    assert set(files) == set(sub.attachments)
    assert [files[name] for name in one.photos] == [photo_a, photo_b]
    assert [files[name] for name in two.photos] == [photo_c]
    assert all(name.endswith(".jpg") for name in sub.attachments)

    # Edited after sending: Enketo keeps the old instanceID as deprecatedID.
    assert enketo.evaluate("(xml) => window.harness.edit(xml)", record["xml"]) == []
    title = enketo.locator(FINDINGS).nth(1).locator("input[name='/visit/finding/title']")
    title.fill("党建手册未发放到每名书记")
    title.blur()  # Enketo takes a typed value on change, as a person leaving the field does
    edited = enketo.evaluate("() => window.harness.record()")
    assert edited["valid"], edited.get("invalid")
    resub = parse_submission(edited["xml"].encode("utf-8"), form_id=form.form_id)
    assert resub.deprecated_id == sub.instance_id
    assert resub.instance_id not in (sub.instance_id, None)
    assert resub.findings[1].title == "党建手册未发放到每名书记"
    assert resub.findings[0] == one
    assert resub.attachments == sub.attachments

    assert enketo.escaped_requests == []
    assert enketo.page_errors == []


def test_enketo_refuses_to_finish_without_the_required_answers(enketo, openrosa_stub):
    form = build_visit_form(visit_data())
    assert open_form(enketo, openrosa_stub, form)["loadErrors"] == []
    first = enketo.locator(FINDINGS).nth(0)
    choose(first, "/visit/finding/item", "RESP-1")
    first.locator("input[name='/visit/finding/title']").fill("长" * 201)
    first.locator("input[name='/visit/finding/title']").blur()

    record = enketo.evaluate("() => window.harness.record()")
    assert record["valid"] is False
    # No check-in location, no severity, a title over 200 characters.
    assert sorted(record["invalid"]) == sorted(
        ["/visit/checkin/checkin_location", "/visit/finding/severity", "/visit/finding/title"]
    )
