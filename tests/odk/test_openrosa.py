"""The OpenRosa documents and headers, read back as a client would read them."""

import defusedxml.ElementTree as defused
import pytest

from audits.odk import openrosa
from audits.odk.openrosa import FormListEntry, ManifestEntry, Nature
from audits.odk.xform import build_visit_form
from tests.odk.conftest import visit_data

LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE = "{http://openrosa.org/http/response}"
BASE = "https://duchaa.example/openrosa"


def entry_for(form, *, manifest=True) -> FormListEntry:
    return FormListEntry(
        form_id=form.form_id,
        name=form.title,
        version=form.version,
        hash=form.md5,
        download_url=f"{BASE}/forms/{form.form_id}.xml",
        manifest_url=f"{BASE}/forms/{form.form_id}/manifest" if manifest else None,
        description_text="暗访表单",
    )


def test_form_list_names_each_form_with_its_version_hash_and_urls():
    forms = [build_visit_form(visit_data()), build_visit_form(visit_data(target_name="A&B <村>"))]
    body = openrosa.form_list([entry_for(forms[0]), entry_for(forms[1], manifest=False)])

    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = defused.fromstring(body)
    assert root.tag == f"{LIST}xforms"
    first, second = root
    assert [child.tag.removeprefix(LIST) for child in first] == [
        "formID",
        "name",
        "version",
        "hash",
        "downloadUrl",
        "manifestUrl",
    ]
    assert first.findtext(f"{LIST}formID") == forms[0].form_id
    assert first.findtext(f"{LIST}version") == forms[0].version
    assert first.findtext(f"{LIST}hash") == forms[0].md5
    assert first.findtext(f"{LIST}downloadUrl") == f"{BASE}/forms/{forms[0].form_id}.xml"
    assert first.findtext(f"{LIST}manifestUrl") == f"{BASE}/forms/{forms[0].form_id}/manifest"
    # Names are escaped, not markup; no manifest where the form has no media.
    assert second.findtext(f"{LIST}name").startswith("A&B <村>（")
    assert second.find(f"{LIST}manifestUrl") is None
    # Descriptions only when the client asked for them (verbose=true).
    assert first.find(f"{LIST}descriptionText") is None
    verbose = defused.fromstring(openrosa.form_list([entry_for(forms[0])], verbose=True))
    assert verbose[0].findtext(f"{LIST}descriptionText") == "暗访表单"


def test_an_empty_form_list_is_a_valid_document():
    root = defused.fromstring(openrosa.form_list([]))
    assert (root.tag, len(root)) == (f"{LIST}xforms", 0)


def test_manifest_lists_the_officials_csv_with_its_md5():
    form = build_visit_form(visit_data())
    body = openrosa.manifest(
        ManifestEntry(m.filename, m.md5, f"{BASE}/forms/{form.form_id}/media/{m.filename}")
        for m in form.media
    )
    root = defused.fromstring(body)
    assert root.tag == f"{MANIFEST}manifest"
    (media,) = root
    assert media.tag == f"{MANIFEST}mediaFile"
    assert media.findtext(f"{MANIFEST}filename") == "officials.csv"
    assert media.findtext(f"{MANIFEST}hash") == form.officials_csv_md5
    assert media.findtext(f"{MANIFEST}downloadUrl").endswith("/media/officials.csv")


@pytest.mark.parametrize("name", ["/etc/passwd", "../x.csv", "a/../b.csv", "C:x.csv", "", "a//b"])
def test_manifest_file_names_must_be_unrooted_without_dot_segments(name):
    with pytest.raises(ValueError, match="un-rooted"):
        openrosa.manifest([ManifestEntry(name, "md5:" + "0" * 32, "https://x/y")])


@pytest.mark.parametrize("value", ["abc", "md5:xyz", "sha256:" + "0" * 64, "md5:" + "A" * 32])
def test_hashes_must_be_openrosa_md5(value):
    with pytest.raises(ValueError, match="md5"):
        openrosa.manifest([ManifestEntry("a.csv", value, "https://x/y")])


def test_control_characters_cannot_reach_a_document():
    with pytest.raises(ValueError, match="control character"):
        openrosa.response("bad \x00 byte", nature=Nature.ERROR)


@pytest.mark.parametrize(
    ("nature", "expected"), [(Nature.SUBMIT_SUCCESS, "submit_success"), (Nature.ERROR, "error")]
)
def test_submission_response_is_an_openrosa_envelope_with_a_message(nature, expected):
    root = defused.fromstring(openrosa.response("已收到 2 条问题 <ok>", nature=nature))
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    assert root.get("items") == "0"
    (message,) = root
    assert message.tag == f"{RESPONSE}message"
    assert message.get("nature") == expected
    assert message.text == "已收到 2 条问题 <ok>"


def test_headers():
    assert openrosa.headers() == {"X-OpenRosa-Version": "1.0"}
    assert openrosa.headers(accept_content_length=10 * 1024 * 1024) == {
        "X-OpenRosa-Version": "1.0",
        "X-OpenRosa-Accept-Content-Length": "10485760",
    }
    with pytest.raises(ValueError, match="positive"):
        openrosa.headers(accept_content_length=0)
    assert openrosa.CONTENT_TYPE == "text/xml; charset=utf-8"


def test_requests_are_recognised_by_their_version_header():
    assert openrosa.is_openrosa_request({"x-openrosa-version": " 1.0 "})
    assert openrosa.is_openrosa_request({"X-OpenRosa-Version": "1.0"})
    assert not openrosa.is_openrosa_request({"X-OpenRosa-Version": "2.0"})
    assert not openrosa.is_openrosa_request({"Accept": "text/xml"})
