"""The per-visit XForm: what it holds, pyxform's verdict, and how version and hash move."""

import csv
import hashlib
import io
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal

import defusedxml.ElementTree as defused
import pytest

from audits.odk.xform import (
    EN,
    ROOT,
    ZH,
    ChecklistEntry,
    FormBuildError,
    OfficialEntry,
    build_visit_form,
    form_id_for,
    visit_id_from_form_id,
)
from tests.odk.conftest import CHECKLIST, OFFICIALS, visit_data

NS = {
    "h": "http://www.w3.org/1999/xhtml",
    "xf": "http://www.w3.org/2002/xforms",
    "jr": "http://openrosa.org/javarosa",
}
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"


def parse(xml: bytes) -> ET.Element:
    return defused.fromstring(xml)


def main_instance(doc: ET.Element) -> ET.Element:
    instances = doc.findall("h:head/xf:model/xf:instance", NS)
    (main,) = [i for i in instances if i.get("id") is None]
    return main[0]


def binds(doc: ET.Element) -> dict[str, dict[str, str]]:
    return {b.get("nodeset"): b.attrib for b in doc.iterfind("h:head/xf:model/xf:bind", NS)}


def test_the_form_holds_the_visit_checkin_and_a_repeat_of_findings(visit):
    form = build_visit_form(visit)
    doc = parse(form.xml)

    assert form.form_id == f"duchaa-visit-{visit.visit_id}"
    root = main_instance(doc)
    assert root.tag == f"{{{NS['xf']}}}{ROOT}"
    assert root.get("id") == form.form_id
    assert root.get("version") == form.version
    children = [c.tag.split("}")[1] for c in root]
    assert children[:6] == [
        "started",
        "ended",
        "visit_id",
        "target_code",
        "window_start",
        "window_end",
    ]
    assert {"checkin", "finding", "meta"} <= set(children)
    template = next(f for f in root.iterfind("xf:finding", NS) if f.get(JR_TEMPLATE) is not None)
    fields = [c.tag.split("}")[1] for c in template]
    assert fields == [
        "item", "threshold", "unit", "severity", "title", "description", "measured",
        "photo_1", "photo_2", "photo_3", "photo_4", "photo_5", "officials",
    ]  # fmt: skip

    bind = binds(doc)
    # The visit is fixed data, carried back in every submission.
    assert bind["/visit/visit_id"]["calculate"] == f"'{visit.visit_id}'"
    assert bind["/visit/target_code"]["calculate"] == "'341302101201'"
    assert bind["/visit/window_start"]["calculate"] == "'2015-06-01T08:00:00+08:00'"
    assert bind["/visit/checkin/checkin_location"]["type"] == "geopoint"
    assert bind["/visit/checkin/checkin_location"]["required"] == "true()"
    # The check-in time is set when the location is captured, not typed.
    (setvalue,) = doc.iterfind(".//xf:setvalue", NS)
    assert setvalue.get("ref") == "/visit/checkin/checkin_time"
    assert setvalue.get("event") == "xforms-value-changed"
    assert setvalue.get("value") == "now()"
    assert bind["/visit/finding/item"]["required"] == "true()"
    assert bind["/visit/finding/severity"]["required"] == "true()"
    assert bind["/visit/finding/title"]["required"] == "true()"
    assert "threshold" in bind["/visit/finding/measured"]["relevant"]
    assert bind["/visit/finding/measured"]["type"] == "decimal"
    for n in range(1, 6):
        assert bind[f"/visit/finding/photo_{n}"]["type"] == "binary"
    assert "../photo_4" in bind["/visit/finding/photo_5"]["relevant"]
    uploads = doc.findall(".//xf:upload", NS)
    assert [u.get("mediatype") for u in uploads] == ["image/*"] * 5
    assert bind["/visit/meta/instanceID"]["{http://openrosa.org/javarosa}preload"] == "uid"


def test_checklist_and_severity_are_choices_and_officials_come_from_the_csv_media(visit):
    form = build_visit_form(visit)
    doc = parse(form.xml)
    model = doc.find("h:head/xf:model", NS)

    checklist = model.find("xf:instance[@id='checklist']/xf:root", NS)
    items = {
        i.findtext("xf:name", namespaces=NS): i.findtext("xf:threshold", namespaces=NS)
        for i in checklist
    }
    assert items == {"VEN-1": "200", "FUND-1": "20000", "EDU-1": None, "RESP-1": None}
    severity = model.find("xf:instance[@id='severity']/xf:root", NS)
    assert [i.findtext("xf:name", namespaces=NS) for i in severity] == [
        "minor",
        "major",
        "serious",
    ]
    officials = model.find("xf:instance[@id='officials']", NS)
    assert officials.get("src") == "jr://file-csv/officials.csv"
    (select,) = doc.iterfind(".//xf:select", NS)
    assert select.get("ref") == "/visit/finding/officials"
    assert select.find("xf:itemset", NS).get("nodeset") == "instance('officials')/root/item"

    rows = list(csv.DictReader(io.StringIO(form.officials_csv.decode("utf-8"))))
    assert [r["name"] for r in rows] == [str(o.id) for o in sorted(OFFICIALS, key=lambda o: o.name)]
    assert {r["label"] for r in rows} == {
        "王建国（党组织书记）",
        "李秀英（组织委员）",
        "张伟（第一书记）",
    }
    assert (
        form.officials_csv_md5
        == "md5:" + hashlib.md5(form.officials_csv, usedforsecurity=False).hexdigest()
    )
    assert [(m.filename, m.md5) for m in form.media] == [("officials.csv", form.officials_csv_md5)]


def test_labels_are_chinese_by_default_with_english_beside(visit):
    doc = parse(build_visit_form(visit).xml)
    translations = doc.findall("h:head/xf:model/xf:itext/xf:translation", NS)
    assert [(t.get("lang"), t.get("default")) for t in translations] == [
        (ZH, "true()"),
        (EN, None),
    ]

    def text(lang: str, text_id: str) -> str:
        (t,) = [t for t in translations if t.get("lang") == lang]
        return "".join(t.find(f"xf:text[@id='{text_id}']/xf:value", NS).itertext())

    assert text(ZH, "/visit/finding/severity:label") == "严重程度"
    assert text(EN, "/visit/finding/severity:label") == "Severity"
    assert text(ZH, "severity-2") == "严重"
    assert text(EN, "severity-2") == "Serious"
    assert "埇桥区曹村镇曹村村" in text(ZH, "/visit/intro:label")
    assert "2015-06-01 08:00" in text(EN, "/visit/intro:label")
    # Every label, hint and message exists in both languages.
    ids = [{t.get("id") for t in tr.iterfind("xf:text", NS)} for tr in translations]
    assert ids[0] == ids[1]


def test_pyxform_validates_the_form_without_complaint(visit):
    """pyxform checks references, names, choices and translations while converting; it
    warns about anything it would not stand behind. The only advice declined (max-pixels,
    which would downscale evidence on the phone) is filtered out and documented."""
    form = build_visit_form(visit)
    assert form.warnings == ()
    # Every reference was resolved: no `${…}` is left in the XForm.
    assert b"${" not in form.xml


def test_same_visit_same_bytes_and_version(visit):
    a, b = build_visit_form(visit), build_visit_form(visit)
    assert (a.xml, a.version, a.md5, a.officials_csv) == (b.xml, b.version, b.md5, b.officials_csv)
    assert re.fullmatch(r"[0-9a-f]{16}", a.version)
    assert a.md5 == "md5:" + hashlib.md5(a.xml, usedforsecurity=False).hexdigest()
    # Officials in another order are the same officials.
    c = build_visit_form(replace(visit, officials=tuple(reversed(OFFICIALS))))
    assert c.version == a.version


@pytest.mark.parametrize(
    "change",
    [
        {"checklist": CHECKLIST[:-1]},
        {"checklist": (replace(CHECKLIST[0], threshold=Decimal("300")), *CHECKLIST[1:])},
        {"checklist": (replace(CHECKLIST[0], text="改过的标准"), *CHECKLIST[1:])},
        {"officials": OFFICIALS[:-1]},
        {"officials": (replace(OFFICIALS[0], title="副书记"), *OFFICIALS[1:])},
        {"campaign_title": "另一个专题"},
    ],
    ids=["item-removed", "threshold", "item-text", "official-left", "official-title", "title"],
)
def test_version_and_hash_change_when_checklist_or_officials_change(visit, change):
    before = build_visit_form(visit)
    after = build_visit_form(replace(visit, **change))
    assert after.form_id == before.form_id
    assert after.version != before.version
    # The XForm carries its version, so the hash moves too (Collect re-downloads on it).
    assert after.md5 != before.md5


def test_free_text_cannot_break_the_definition_or_inject_references(visit):
    hostile = "A|B ${visit_id} 'q\" <b>&amp;\nsecond line # not a comment \\|"
    form = build_visit_form(
        replace(
            visit,
            campaign_title=hostile,
            target_name="村|名",
            checklist=(ChecklistEntry("X-1", hostile, "类|别"), *CHECKLIST),
            officials=(OfficialEntry(uuid.uuid4(), '王|五,"六"', "书记\n"), *OFFICIALS),
        )
    )
    assert form.warnings == ()
    doc = parse(form.xml)
    title = doc.findtext("h:head/h:title", namespaces=NS)
    # Text survives as typed (newlines folded), the reference is defused by a zero-width space.
    assert (
        title
        == "村|名（341302101201）· A|B $\u200b{visit_id} 'q\" <b>&amp; second line # not a comment \\|"
    )
    assert b"${" not in form.xml
    rows = list(csv.DictReader(io.StringIO(form.officials_csv.decode("utf-8"))))
    assert '王|五,"六"（书记）' in {r["label"] for r in rows}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"checklist": ()}, "no checklist items"),
        ({"checklist": (ChecklistEntry("VEN 1", "t", "c"),)}, "'VEN 1'"),
        ({"checklist": (ChecklistEntry("VEN'1", "t", "c"),)}, "VEN'1"),
        ({"checklist": (CHECKLIST[0], CHECKLIST[0])}, "repeat"),
        ({"target_code": "34 13"}, "target code"),
    ],
)
def test_data_that_cannot_make_a_form_is_refused_by_name(visit, change, message):
    with pytest.raises(FormBuildError, match=re.escape(message)):
        build_visit_form(replace(visit, **change))


def test_form_id_names_the_visit():
    visit_id = uuid.uuid4()
    assert visit_id_from_form_id(form_id_for(visit_id)) == visit_id
    assert visit_id_from_form_id("duchaa-visit-not-a-uuid") is None
    assert visit_id_from_form_id(f"other-{visit_id}") is None
    assert visit_id_from_form_id(f"duchaa-visit-{str(visit_id).upper()}") is None


def test_a_checklist_without_thresholds_still_makes_a_valid_form():
    form = build_visit_form(visit_data(checklist=CHECKLIST[2:], officials=()))
    assert form.warnings == ()
    assert form.officials_csv == b"name,label\r\n"
