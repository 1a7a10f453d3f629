"""The auditors' API: who may see it (404 to all others), filters, pages, CSV, proofs."""

from __future__ import annotations

import base64
import csv
import io
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audits.models import Unit
from audits.trail import check_proof, context
from tests.conftest import bearer
from tests.factories import PASSWORD, UnitFactory, UserFactory
from tests.trail.sealing import seal_all

AUDIT_PATHS = [
    "/api/v1/audit/events",
    "/api/v1/audit/events.csv",
    "/api/v1/audit/events?format=csv",
    "/api/v1/audit/events/1/proof",
    "/api/v1/audit/verify",
    "/api/v1/audit/head",
    "/api/v1/audit/consistency?first=1",
    "/api/v1/audit/nothing-here",
]
PAGES = ["/audit/", "/audit/verify/", "/audit/object/?type=unit&id=1"]


@pytest.fixture
def auditor():
    return UserFactory(username="auditor_api", roles=["auditor"])


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [["planner"], ["leader"], ["inspector"], ["unit_official"], None])
def test_everyone_but_auditors_gets_404_on_every_audit_path(api, roles):
    client = bearer(UserFactory(roles=roles)) if roles else api
    for path in AUDIT_PATHS:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["code"] == "not_found"
    if roles:
        web = Client()
        web.login(username=UserFactory(roles=roles).username, password=PASSWORD)
        for path in PAGES:
            assert web.get(path).status_code == 404, path
    assert api.get("/api/v1/audit/public-key").status_code == 200  # public information


@pytest.mark.django_db(transaction=True)
def test_list_filters_and_pagination(auditor):
    began = timezone.now()
    actor = UserFactory(username="renamer")
    unit = UnitFactory(name="旧名")
    with context.user_context(actor), context.action("unit.rename"):
        for name in ("新名一", "新名二", "新名三"):
            Unit.objects.filter(pk=unit.pk).update(name=name)
    seal_all()
    client = bearer(auditor)
    page = client.get("/api/v1/audit/events", {"actor": "renamer", "page_size": 2}).json()
    assert [e["action"] for e in page["results"]] == ["unit.rename", "unit.rename"]
    newest = page["results"][0]
    assert newest["actor"] == {"id": actor.pk, "label": "renamer"}
    assert newest["changes"] == {"name": {"before": "新名二", "after": "新名三"}}
    assert newest["object_type"] == "unit"
    assert newest["object_id"] == str(unit.pk)
    assert len(newest["hash"]) == 64
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    by_id = client.get("/api/v1/audit/events", {"actor": str(actor.pk)}).json()["results"]
    assert len(by_id) == 3
    history = client.get(
        "/api/v1/audit/events", {"object_type": "unit", "object_id": str(unit.pk)}
    ).json()["results"]
    assert [e["action"] for e in history][-1] == "unit.create"
    now = timezone.now()
    window = {"from": began.isoformat(), "to": now.isoformat(), "action": "unit.rename"}
    assert len(client.get("/api/v1/audit/events", window).json()["results"]) == 3
    later = {"from": (now + timedelta(days=1)).date().isoformat()}
    assert client.get("/api/v1/audit/events", later).json()["results"] == []
    bad = client.get("/api/v1/audit/events", {"from": "yesterday"})
    assert bad.status_code == 400
    assert "from" in bad.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"actor": "nobody-at-all"},
        {"actor": "999999999"},
        {"actor": "99999999999999999999999"},
        {"object_id": "00000000-0000-0000-0000-000000000000"},
        {"object_type": "unit", "object_id": "no-such"},
        {"action": "'; DROP TABLE audit_event; --"},
    ],
)
def test_unknown_actor_or_object_is_an_empty_page(auditor, params):
    answer = bearer(auditor).get("/api/v1/audit/events", params)
    assert answer.status_code == 200
    assert answer.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.django_db(transaction=True)
def test_verify_proof_and_public_key_endpoints(auditor, api):
    UnitFactory()
    seal_all()
    client = bearer(auditor)
    report = client.get("/api/v1/audit/verify").json()
    assert report["ok"] is True
    assert report["first_bad_seq"] is None
    assert report["checked"] == report["head"]["tree_size"] > 0
    key = api.get("/api/v1/audit/public-key").json()
    assert key["algorithm"] == "Ed25519"
    assert key["key_id"] == report["head"]["key_id"]
    seq = report["head"]["tree_size"]
    proof = client.get(f"/api/v1/audit/events/{seq}/proof").json()
    assert check_proof.check(proof, base64.b64decode(key["public_key"])) == []
    assert client.get(f"/api/v1/audit/events/{seq + 10**6}/proof").status_code == 404
    consistency = client.get("/api/v1/audit/consistency", {"first": 1}).json()
    assert check_proof.consistency_ok(
        1,
        seq,
        bytes.fromhex(proof["leaf_hash"])
        if seq == 1
        else bytes.fromhex(client.get("/api/v1/audit/events/1/proof").json()["leaf_hash"]),
        bytes.fromhex(consistency["second"]["root"]),
        [bytes.fromhex(h) for h in consistency["proof"]],
    )


@pytest.mark.django_db
def test_csv_export_streams_80k_rows_in_constant_memory(auditor):
    rows = 80_000
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type,"
            " object_id, after, ip, device_id) SELECT %s, 'bulk', 'bench.write', 'event',"
            " 'bench', g::text, jsonb_build_object('n', g, 'text', '批量测试数据 ' || g),"
            " '10.0.0.1', 'pad-1' FROM generate_series(1, %s) g",
            [auditor.pk, rows],
        )
    answer = bearer(auditor).get("/api/v1/audit/events.csv", {"action": "bench.write"})
    assert answer.status_code == 200
    assert answer.streaming
    assert answer["Content-Type"].startswith("text/csv")
    tracemalloc.start()
    total = lines = 0
    first = None
    for chunk in answer.streaming_content:
        total += len(chunk)
        lines += chunk.count(b"\n")
        if first is None:
            first = chunk
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert lines == rows + 1
    assert total > 12_000_000
    assert peak < 6_000_000, f"peak {peak:,} B while streaming {total:,} B"
    header = next(csv.reader(io.StringIO(first.decode("utf-8-sig"))))
    assert header[:3] == ["seq", "at", "actor_id"]
    assert header[-1] == "hash"


@pytest.mark.django_db
def test_a_csv_export_is_itself_an_event_naming_the_auditor_and_the_filters(auditor):
    from audits.models import AuditEvent

    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    answer = bearer(auditor).get("/api/v1/audit/events.csv", {"action": "unit.create"})
    assert answer.status_code == 200
    b"".join(answer.streaming_content)
    (event,) = AuditEvent.objects.filter(seq__gt=start, action="audit.export")
    assert (event.actor_id, event.object_type, event.object_id) == (
        auditor.pk,
        "audit_trail",
        "csv",
    )
    assert event.after == {"action": "unit.create"}
