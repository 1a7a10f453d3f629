"""Bulletins through the API: request, compile (the worker's verb, run here), read back the
PDF and DOCX, edit, issue, acknowledge, correct; and what bad input gets."""

import hashlib
import io
import json
import uuid

import docx
import pytest
from django.db import IntegrityError, transaction

from audits.models import AuditEvent, Bulletin, BulletinCounter, BulletinRecipient, OutboxMessage
from audits.services import trail
from tests.bulletins.helpers import RARE, compiled, days_ago, request, world
from tests.conftest import bearer
from tests.rendering import readback
from tests.rendering.test_pdf import _missing_glyphs

pytestmark = pytest.mark.django_db


def problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == code, body
    return body


def draft(w, client=None, **body) -> dict:
    """A compiled draft of the city over the last 59 days, as the planner sees it."""
    client = client or bearer(w.planner_city)
    answer = request(client, w, **body)
    assert answer.status_code == 202, answer.content
    compiled(answer.json()["id"])
    return client.get(f"/api/v1/bulletins/{answer.json()['id']}").json()


def issue(client, bulletin_id, **headers):
    return client.post(f"/api/v1/bulletins/{bulletin_id}/issue", **headers)


def test_a_request_is_compiled_from_what_the_planner_may_see():
    w = world()
    client = bearer(w.planner_city)
    answer = request(client, w, requirements="各县区要逐项整改。\n按期报送整改情况。")
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "compiling"
    assert answer["Location"].endswith(f"/api/v1/bulletins/{body['id']}")
    assert body["number"] is None
    assert body["pdf_url"] is None
    assert "error" not in body
    # The compile is work for a worker, handed over through the outbox.
    assert OutboxMessage.objects.filter(
        task="workers.bulletins.compile_bulletin", kwargs={"bulletin_id": body["id"]}
    ).exists()
    # Leadership of the units in scope, by position on the day and by role; not the
    # official whose position ended.
    recipients = {r["user"]: r for r in body["recipients"]}
    assert set(recipients) == {w.leader_city.pk, w.leader_county.pk, w.head_b.pk}
    assert recipients[w.head_b.pk]["source"] == "position"
    assert recipients[w.head_b.pk]["label"] == f"乙县组织部长{RARE[2]}"

    bulletin = compiled(body["id"])
    assert bulletin.status == "draft"
    got = client.get(f"/api/v1/bulletins/{body['id']}").json()
    assert got["status"] == "draft"
    assert got["progress"] == {"stage": "done", "percent": 100}
    pdf = client.get(got["pdf_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline;")
    data = b"".join(pdf.streaming_content)
    assert hashlib.sha256(data).hexdigest() == got["sha256"]

    text = readback.flat(readback.body(data))
    assert "草稿" in text
    assert readback.flat(got["title"]) in text
    assert "中共测试市委组织部" in text
    assert (
        "全市共组织暗访督查1轮，实地暗访2次，覆盖基层单位2个，"
        "发现并通报问题3个（其中严重1个、较重1个、一般1个）" in text
    )
    assert "甲县2个、乙县1个" in text
    assert "阵地建设2个、经费保障1个" in text
    assert f"{RARE[3]}（党组织书记）" in text  # the village secretary, with the title held
    assert "已整改并经验收1个，在整改期限内1个，逾期未整改1个" in text
    assert "逾期未整改问题清单" in text
    assert "村级活动场所面积不足" in text
    assert "各县区要逐项整改。" in text
    assert "按期报送整改情况。" in text
    assert f"测试市党组织书记{RARE[0]}" in text  # the distribution list
    # Nothing of the open visit, nor of the one whose finding awaits publication.
    assert "秘密在办问题" not in text
    assert "尚未通报问题" not in text
    # Two photos for the case, the previews reduced to print size; never the originals.
    assert [(w_, h, enc) for w_, h, enc in readback.images(data)] == [(640, 480, "jpeg")] * 2

    word = client.get(got["docx_url"])
    assert word.status_code == 200
    assert word["Content-Disposition"].startswith("attachment;")
    document = docx.Document(io.BytesIO(b"".join(word.streaming_content)))
    words = "".join(p.text for p in document.paragraphs)
    assert got["title"] in words
    assert "各县区要逐项整改。" in words


def test_names_with_rare_characters_print_with_real_glyphs(tmp_path):
    w = world(photos=False)
    got = draft(w)
    data = Bulletin.objects.get(pk=got["id"])
    from django.core.files.storage import default_storage

    pdf = default_storage.open(data.pdf).read()
    text = readback.flat(readback.body(pdf))
    for name in RARE[:4]:
        assert name in text, name
    maps = readback.to_unicode_maps(pdf)
    checked = set()
    for embedded, mapping in maps.items():
        assert not _missing_glyphs(embedded, mapping), embedded
        checked.update(mapping.values())
    assert set(text) <= checked
    assert readback.png(pdf, 1, tmp_path).exists()


def test_an_empty_period_gives_a_valid_bulletin_that_says_so():
    w = world()
    got = draft(w, period_start=days_ago(300).isoformat(), period_end=days_ago(200).isoformat())
    assert got["status"] == "draft"
    pdf = b"".join(bearer(w.planner_city).get(got["pdf_url"]).streaming_content)
    text = readback.flat(readback.body(pdf))
    assert "本期督查范围内无已发布的督查发现，无约谈和组织调整事项。" in text
    assert readback.page_count(pdf) >= 1


def test_issuing_numbers_prints_the_head_and_freezes_the_bulletin():
    w = world()
    client = bearer(w.planner_city)
    first, second = draft(w), draft(w, title="第二份通报")
    trail.trail_seal()
    answer = issue(client, first["id"], HTTP_IF_MATCH=f'"{first["version"]}"')
    assert answer.status_code == 200, answer.content
    issued = answer.json()
    year = days_ago(0).year
    assert (issued["status"], issued["year"], issued["number"]) == ("issued", year, 1)
    assert issued["issued_on"] == days_ago(0).isoformat()
    assert issued["sha256"] != first["sha256"]
    pdf = b"".join(client.get(issued["pdf_url"]).streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == issued["sha256"]
    text = readback.flat(readback.body(pdf))
    assert "第1期" in text
    assert "草稿" not in text
    assert issued["head"]["root"] in text
    assert f"第{issued['head']['tree_size']}号记录" in text
    # Delivery and the Word copy are queued.
    tasks = set(OutboxMessage.objects.values_list("task", flat=True))
    assert {"workers.bulletins.deliver_bulletin", "workers.bulletins.render_issued_docx"} <= tasks

    # Issuing twice, editing or recompiling an issued bulletin: refused, nothing changes.
    problem(issue(client, first["id"]), 409, "already_issued")
    patched = client.patch(
        f"/api/v1/bulletins/{first['id']}",
        {"requirements": "改"},
        format="json",
        HTTP_IF_MATCH=f'"{issued["version"]}"',
    )
    problem(patched, 409, "already_issued")
    problem(client.post(f"/api/v1/bulletins/{first['id']}/compile"), 409, "already_issued")
    row = Bulletin.objects.get(pk=first["id"])
    assert (row.sha256, row.number, row.version) == (issued["sha256"], 1, issued["version"])
    # The database refuses it too, whoever asks.
    with pytest.raises(IntegrityError), transaction.atomic():
        Bulletin.objects.filter(pk=first["id"]).update(title="改过的标题")
    with pytest.raises(IntegrityError), transaction.atomic():
        BulletinRecipient.objects.filter(bulletin_id=first["id"]).delete()

    # The next one takes the next number.
    assert issue(client, second["id"]).json()["number"] == 2
    assert BulletinCounter.objects.get(issuer=w.units["city"], year=year).last == 2
    # Each step is in the audit trail, by the planner.
    actions = set(
        AuditEvent.objects.filter(object_type="bulletin", object_id=first["id"]).values_list(
            "action", flat=True
        )
    )
    assert {"bulletin.request", "bulletin.compile", "bulletin.issue"} <= actions


def test_editing_a_draft_needs_its_version_and_renders_it_again():
    w = world(photos=False)
    client = bearer(w.planner_city)
    got = draft(w)
    url = f"/api/v1/bulletins/{got['id']}"
    body = {
        "requirements": "请各县区于月底前报送整改台账。",
        "added_recipients": [w.planner_county.pk],
    }
    problem(client.patch(url, body, format="json"), 428, "if_match_required")
    problem(client.patch(url, body, format="json", HTTP_IF_MATCH='"99"'), 412, "stale_version")
    answer = client.patch(url, body, format="json", HTTP_IF_MATCH=f'"{got["version"]}"')
    assert answer.status_code == 200, answer.content
    edited = answer.json()
    assert edited["version"] == got["version"] + 1
    assert edited["status"] == "compiling"
    added = [r for r in edited["recipients"] if r["source"] == "added"]
    assert [(r["user"], r["kind"]) for r in added] == [(w.planner_county.pk, "copy")]
    # Issuing while it renders again: not yet.
    problem(issue(client, got["id"]), 409, "wrong_state")
    compiled(got["id"])
    again = client.get(url).json()
    assert again["status"] == "draft"
    assert again["sha256"] != got["sha256"]
    text = readback.flat(readback.body(b"".join(client.get(again["pdf_url"]).streaming_content)))
    assert "请各县区于月底前报送整改台账。" in text
    # Issuing the version the planner previewed before someone else's edit: refused.
    trail.trail_seal()
    problem(issue(client, got["id"], HTTP_IF_MATCH=f'"{got["version"]}"'), 412, "stale_version")
    assert Bulletin.objects.get(pk=got["id"]).number is None
    assert not BulletinCounter.objects.exists()


def test_bad_input_gets_a_clear_problem_and_changes_nothing():
    w = world(photos=False)
    city = bearer(w.planner_city)
    county = bearer(w.planner_county)
    before = (Bulletin.objects.count(), OutboxMessage.objects.count())

    body = problem(request(county, w), 400, "unit_outside_jurisdiction")
    assert "unit" in body["errors"]
    body = problem(
        request(city, w, period_start=days_ago(5).isoformat(), period_end=days_ago(9).isoformat()),
        400,
        "period_reversed",
    )
    assert "period_end" in body["errors"]
    problem(request(city, w, period_end=days_ago(-3).isoformat()), 400, "period_in_future")
    problem(request(city, w, period_start=days_ago(400).isoformat()), 400, "period_too_long")
    problem(request(city, w, period_start="2015-02-30"), 400, "invalid")
    problem(request(city, w, unit=str(uuid.uuid4())), 400, "invalid")
    problem(request(city, w, campaign=str(uuid.uuid4())), 400, "invalid")
    # A requirements text of 1 MB: refused before it is read.
    huge = json.dumps({"unit": str(w.units["city"].pk), "requirements": "要" * (1 << 20)})
    answer = city.generic("POST", "/api/v1/bulletins", huge, content_type="application/json")
    problem(answer, 413, "payload_too_large")
    problem(request(city, w, requirements="要" * 20_001), 400, "max_length")
    problem(request(bearer(w.leader_city), w), 403, "permission_denied")
    assert (Bulletin.objects.count(), OutboxMessage.objects.count()) == before

    got = draft(w)
    url = f"/api/v1/bulletins/{got['id']}"
    long = {"requirements": "要" * 20_001}
    problem(
        city.patch(url, long, format="json", HTTP_IF_MATCH=f'"{got["version"]}"'), 400, "max_length"
    )
    # Someone else's draft: as if it did not exist; leaders never see drafts.
    for client in (bearer(w.planner_other), bearer(w.leader_city)):
        problem(client.get(url), 404, "not_found")
        fine = {"requirements": "改"}
        problem(client.patch(url, fine, format="json", HTTP_IF_MATCH='"1"'), 404, "not_found")
        problem(issue(client, got["id"]), 404, "not_found")
    # The auditor sees it but changes nothing.
    problem(issue(bearer(w.auditor), got["id"]), 403, "permission_denied")
    row = Bulletin.objects.get(pk=got["id"])
    assert (row.status, row.version, row.requirements) == ("draft", got["version"], "")


def test_acknowledging_is_the_recipients_own():
    w = world(photos=False)
    planner = bearer(w.planner_city)
    got = draft(w)
    trail.trail_seal()
    issue(planner, got["id"])
    url = f"/api/v1/bulletins/{got['id']}/acknowledge"
    leader = bearer(w.leader_county)
    answer = leader.post(url)
    assert answer.status_code == 200, answer.content
    mine = answer.json()["recipients"]
    assert [r["user"] for r in mine] == [w.leader_county.pk]  # a recipient sees their own copy
    assert mine[0]["acknowledged_at"] is not None
    assert leader.post(url).json()["recipients"] == mine  # twice: nothing changes
    # The planner sees the bulletin, but it is not addressed to them.
    problem(planner.post(url), 403, "not_a_recipient")
    # Someone the bulletin is not addressed to: as if it did not exist.
    hidden = bearer(w.outsider).post(url)
    missing = bearer(w.outsider).post(f"/api/v1/bulletins/{uuid.uuid4()}/acknowledge")
    problem(hidden, 404, "not_found")
    assert hidden.json() == missing.json()
    # The planner follows who has and who has not.
    seen = planner.get(f"/api/v1/bulletins/{got['id']}").json()["recipients"]
    acked = {r["user"] for r in seen if r["acknowledged_at"]}
    assert acked == {w.leader_county.pk}
    assert len(seen) == 3


def test_a_correction_is_a_new_bulletin_naming_the_one_it_corrects():
    w = world(photos=False)
    client = bearer(w.planner_city)
    original = draft(w)
    trail.trail_seal()
    issued = issue(client, original["id"]).json()
    unissued = draft(w)
    refused = client.post("/api/v1/bulletins", {"corrects": unissued["id"]}, format="json")
    problem(refused, 400, "not_issued")
    answer = client.post("/api/v1/bulletins", {"corrects": issued["id"]}, format="json")
    assert answer.status_code == 202, answer.content
    fix = answer.json()
    assert fix["corrects"] == issued["id"]
    assert (fix["unit"], fix["period_start"], fix["period_end"]) == (
        issued["unit"],
        issued["period_start"],
        issued["period_end"],
    )
    compiled(fix["id"])
    corrected = issue(client, fix["id"]).json()
    assert corrected["number"] == 2
    text = readback.flat(
        readback.body(b"".join(client.get(corrected["pdf_url"]).streaming_content))
    )
    assert f"本期通报更正{issued['year']}年第1期通报" in text
    assert Bulletin.objects.get(pk=issued["id"]).sha256 == issued["sha256"]


def test_a_compile_that_fails_says_why_and_can_be_retried():
    w = world()
    client = bearer(w.planner_city)
    body = request(client, w).json()
    from django.core.files.storage import default_storage

    lost = w.photos[0].preview
    saved = default_storage.open(lost).read()
    default_storage.delete(lost)
    assert compiled(body["id"]).status == "failed"
    got = client.get(f"/api/v1/bulletins/{body['id']}").json()
    assert got["status"] == "failed"
    assert "No such file" in got["error"]
    assert got["pdf_url"] is None
    problem(client.get(f"/api/v1/bulletins/{body['id']}/pdf"), 409, "bulletin_not_ready")
    problem(issue(client, body["id"]), 409, "wrong_state")
    # The planner is told.
    assert w.planner_city.notifications.filter(kind="bulletin.failed").exists()
    from django.core.files.base import ContentFile

    default_storage.save(lost, ContentFile(saved))
    retried = client.post(f"/api/v1/bulletins/{body['id']}/compile")
    assert retried.status_code == 202
    assert retried.json()["status"] == "compiling"
    assert "error" not in retried.json()
    assert compiled(body["id"]).status == "draft"
    # A preview gone between the draft and its issue: refused, no number taken.
    default_storage.delete(lost)
    trail.trail_seal()
    body = problem(issue(client, body["id"]), 409, "wrong_state")
    assert "照片文件已不存在" in body["detail"]
    assert not BulletinCounter.objects.exists()


def test_figures_count_issued_bulletins_over_what_the_caller_may_see():
    w = world(photos=False)
    planner = bearer(w.planner_city)
    first, second = draft(w), draft(w)
    trail.trail_seal()
    issue(planner, first["id"])
    city = w.units["city"].pk
    period = f"from={days_ago(1).isoformat()}&to={days_ago(0).isoformat()}"

    def count(user, query=period):
        answer = bearer(user).get(f"/api/v1/stats?unit={city}&{query}")
        assert answer.status_code == 200, answer.content
        return answer.json()["bulletins_issued"]

    assert count(w.planner_city) == 1  # the draft does not count
    assert count(w.leader_city) == 1  # addressed to them
    assert count(w.planner_other) == 0  # neither theirs nor addressed to them
    assert count(w.auditor) == 1
    assert (
        count(w.planner_city, f"from={days_ago(30).isoformat()}&to={days_ago(2).isoformat()}") == 0
    )
    assert second["status"] == "draft"
