"""Sealing: order, gaps, in-flight writers, signed heads, proofs an auditor checks alone."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction

from audits.trail import check_proof, keys, merkle, proofs
from audits.trail.seal import current_head, seal
from audits.trail.verify import verify
from tests.conftest import ROOT, database_url_for
from tests.factories import UnitFactory, UserFactory
from tests.trail.sealing import gaps_after, newest_seq, seal_all

pytestmark = pytest.mark.django_db(transaction=True)


def _naive_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = merkle.split(len(leaves))
    return merkle.node_hash(_naive_root(leaves[:k]), _naive_root(leaves[k:]))


@pytest.mark.django_db(transaction=False)
def test_merkle_proofs_agree_with_the_definition_and_the_independent_checker():
    for size in range(1, 40):
        leaves = [merkle.leaf_hash(b"%d" % i) for i in range(size)]

        def hasher(parts, leaves=leaves):
            return {(lv, i): _naive_root(leaves[i << lv : (i + 1) << lv]) for lv, i in parts}

        root = _naive_root(leaves)
        assert merkle.root_of(leaves) == root
        for index in range(size):
            path = merkle.inclusion_proof(index, size, hasher)
            assert check_proof.inclusion_ok(index, size, leaves[index], path, root)
            assert not check_proof.inclusion_ok(index, size, merkle.leaf_hash(b"x"), path, root)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, hasher)
            old = _naive_root(leaves[:first])
            assert check_proof.consistency_ok(first, size, old, root, proof)
            if first < size:
                assert not check_proof.consistency_ok(first, size, root, root, proof)


def test_seals_in_order_records_a_rolled_back_value_as_a_gap_and_signs_the_head():
    start = newest_seq()
    UnitFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        UnitFactory()
        raise RuntimeError
    UnitFactory()
    seal_all()
    head = current_head()
    assert head.tree_size == newest_seq()
    assert head.signature_ok()
    report = verify()
    assert report.ok
    assert report.checked == head.tree_size
    assert report.unsealed == 0
    assert gaps_after(start)  # the rolled-back value, sealed as a gap
    assert report.gap_count >= len(gaps_after(start))  # and reported
    body = report.as_dict()
    assert body["first_bad_seq"] is None
    assert body["head"]["tree_size"] == head.tree_size


def test_a_hole_held_by_an_inflight_transaction_waits_then_fills():
    UnitFactory()
    seal_all()
    url = database_url_for(connection.settings_dict["NAME"]).replace(
        "postgres://", "postgresql://", 1
    )
    with psycopg.connect(url) as other:  # a writer still in flight: its seq is drawn
        other.execute(
            "INSERT INTO audit_event (action, operation, object_type, object_id)"
            " VALUES ('test.slow', 'event', 'test', 'slow')"
        )
        slow = other.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
        UnitFactory()  # commits after it, with a higher seq
        run = seal()
        assert run.waiting_at == slow  # not sealed over, not called a gap
        assert current_head().tree_size == slow - 1
        other.commit()
    seal_all()
    report = verify()
    assert report.ok
    assert slow not in gaps_after(slow - 1)


def test_proof_is_checked_by_the_script_without_database(tmp_path):
    UserFactory()
    seal_all()
    older = current_head().as_dict()
    UnitFactory()
    seal_all()
    seq = older["tree_size"]
    proof = proofs.event_proof(seq, since=older["tree_size"])
    key = keys.public_key_b64()
    assert check_proof.check(proof, base64.b64decode(key), published=older) == []
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "head.json").write_text(json.dumps(older))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE", "REDIS", "SECRET", "DJANGO"))
    }
    script = [
        sys.executable,
        str(ROOT / "audits/trail/check_proof.py"),
        "proof.json",
        "--public-key",
        key,
        "--head",
        "head.json",
    ]
    done = subprocess.run(script, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"OK: event {seq}")
    forged = dict(proof, canonical=proof["canonical"].replace('"v": 1', '"v": 1, "x": 0'))
    (tmp_path / "proof.json").write_text(json.dumps(forged))
    done = subprocess.run(script, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "do not hash to the sealed leaf" in done.stdout
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    out = io.StringIO()
    call_command(
        "check_audit_proof",
        str(tmp_path / "proof.json"),
        "--public-key",
        key,
        "--head",
        str(tmp_path / "head.json"),
        stdout=out,
    )
    assert out.getvalue().startswith("OK:")


def test_archive_file_verifies_on_its_own(tmp_path, capsys):
    UnitFactory()
    seal_all()
    path = tmp_path / "trail.jsonl.gz"
    call_command("archive_audit", "--out", str(path), "--from-seq", "3")
    count, errors = check_proof.check_archive(str(path), base64.b64decode(keys.public_key_b64()))
    assert errors == []
    assert count == current_head().tree_size - 2
    call_command("verify_audit", "--archive", str(path))
    assert "archived leaves reach their signed head" in capsys.readouterr().out


def test_daily_head_is_mailed_to_auditors(settings):
    from workers.trail import mail_daily_head

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AUDITOR_EMAILS = ["audit-office@example.org"]
    UserFactory(roles=["auditor"], email="auditor@example.org")
    size = mail_daily_head()
    assert size == current_head().tree_size
    (message,) = mail.outbox
    assert set(message.to) == {"audit-office@example.org", "auditor@example.org"}
    assert current_head().as_dict()["signature"] in message.body
    assert f"第 {size} 号记录" in message.subject


@pytest.mark.worker
def test_worker_and_beat_seal_within_seconds(celery_worker, tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=database_url_for(connection.settings_dict["NAME"]),
        CELERY_TASK_DEFAULT_QUEUE=celery_worker.queue,
        AUDIT_SEAL_INTERVAL_SECONDS="0.5",
    )
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "server",
            "beat",
            "-l",
            "warning",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lags = []
        for _ in range(3):
            UnitFactory()
            committed, target = time.monotonic(), newest_seq()
            while current_head() is None or current_head().tree_size < target:
                assert time.monotonic() - committed < 15, "not sealed within 15 s"
                time.sleep(0.05)
            lags.append(time.monotonic() - committed)
        assert verify().ok
        assert max(lags) < 10
    finally:
        beat.terminate()
        beat.wait(timeout=20)
