"""Tampering as a database superuser (triggers disabled) is caught, and named.

Each test seals the trail, alters it through raw SQL in one of the ways an insider with the
database but without the keys could, asserts that verification names the first bad event,
then puts the rows back (the test database outlives the test).
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audits.models import Unit
from audits.trail import check_proof, proofs
from audits.trail.seal import current_head
from audits.trail.verify import verify
from tests.factories import UnitFactory, UserFactory
from tests.trail.sealing import gaps_after, newest_seq, seal_all, superuser

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = (
    "seq, at, actor_id, actor_label, action, operation, object_type, object_id, before,"
    " after, ip, device_id, request_id, db_role, txid"
)


@pytest.fixture
def trail():
    """Five committed unit events (create, then a rename of each), sealed and verified."""
    start = newest_seq()
    units = [UnitFactory() for _ in range(3)]
    for unit in units[:2]:
        Unit.objects.filter(pk=unit.pk).update(name=unit.name + "·改")
    seal_all()
    assert verify().ok
    seqs = list(range(start + 1, newest_seq() + 1))
    return type("Trail", (), {"seqs": seqs, "units": units})


class Restore:
    """Saves audit_event rows (as superuser, in a temporary table) and puts exactly them back."""

    def __init__(self, conn, seqs) -> None:
        self.conn, self.seqs = conn, list(seqs)
        conn.execute("DROP TABLE IF EXISTS saved_events")
        conn.execute(
            "CREATE TEMP TABLE saved_events AS SELECT * FROM audit_event WHERE seq = ANY(%s)",
            [self.seqs],
        )

    def __call__(self) -> None:
        self.conn.execute("DELETE FROM audit_event WHERE seq = ANY(%s)", [self.seqs])
        self.conn.execute("INSERT INTO audit_event SELECT * FROM saved_events")


def assert_caught(seq: int, kind: str | None = None) -> None:
    report = verify()
    assert not report.ok
    assert report.first_bad_seq == seq, report.as_dict()["problems"]
    if kind:
        assert kind in {p.kind for p in report.problems if p.seq == seq}
    with pytest.raises(CommandError, match=f"first bad event: seq {seq} "):
        call_command("verify_audit")


def test_changed_field(trail):
    seq = trail.seqs[1]
    with superuser() as su:
        restore = Restore(su, [seq])
        su.execute(
            "UPDATE audit_event SET after = jsonb_set(after, '{name}', '\"篡改\"') WHERE seq = %s",
            [seq],
        )
        try:
            assert_caught(seq, "changed")
        finally:
            restore()
    assert verify().ok


def test_changed_actor_label_only(trail):
    seq = trail.seqs[0]
    with superuser() as su:
        restore = Restore(su, [seq])
        su.execute("UPDATE audit_event SET actor_label = 'someone-else' WHERE seq = %s", [seq])
        try:
            assert_caught(seq, "changed")
        finally:
            restore()


def test_deleted_event(trail):
    seq = trail.seqs[2]
    with superuser() as su:
        restore = Restore(su, [seq])
        su.execute("DELETE FROM audit_event WHERE seq = %s", [seq])
        try:
            assert_caught(seq, "deleted")
        finally:
            restore()
    assert verify().ok


def test_inserted_event_in_a_sealed_gap():
    start = newest_seq()
    UnitFactory()
    with pytest.raises(RuntimeError), transaction.atomic():  # a rolled-back write: a gap
        UnitFactory()
        raise RuntimeError
    UnitFactory()
    seal_all()
    report = verify()
    assert report.ok
    assert report.gap_count >= 1
    gap = gaps_after(start)[0]
    with superuser() as su:
        su.execute(
            f"INSERT INTO audit_event ({COLUMNS}) SELECT %s, at,"  # noqa: S608
            " actor_id, actor_label,"
            " action, operation, object_type, object_id, before, after, ip, device_id,"
            " request_id, db_role, txid FROM audit_event WHERE seq = %s",
            [gap, gap - 1],
        )
        try:
            assert_caught(gap, "inserted")
        finally:
            su.execute("DELETE FROM audit_event WHERE seq = %s", [gap])
    assert verify().ok


def test_two_swapped(trail):
    a, b = trail.seqs[1], trail.seqs[3]
    with superuser() as su:
        restore = Restore(su, [a, b])
        su.execute("UPDATE audit_event SET seq = -1 WHERE seq = %s", [a])
        su.execute("UPDATE audit_event SET seq = %s WHERE seq = %s", [a, b])
        su.execute("UPDATE audit_event SET seq = %s WHERE seq = -1", [b])
        try:
            assert_caught(a, "changed")
        finally:
            restore()
    assert verify().ok


def test_changed_timestamp(trail):
    seq = trail.seqs[3]
    with superuser() as su:
        restore = Restore(su, [seq])
        su.execute(
            "UPDATE audit_event SET at = at - interval '1 microsecond' WHERE seq = %s", [seq]
        )
        try:
            assert_caught(seq, "changed")
        finally:
            restore()


def test_object_no_longer_matches_its_last_event(trail):
    unit = trail.units[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(seq) FROM audit_event WHERE object_type = 'unit'"
            " AND object_id = %s AND after ? 'name'",
            [str(unit.pk)],
        )
        last = cursor.fetchone()[0]
    with superuser() as su:  # the row changes, with the capture trigger off: no event
        su.execute("UPDATE audits_unit SET name = '无记录的修改' WHERE id = %s", [unit.pk])
        try:
            assert_caught(last, "object")
        finally:
            su.execute(
                "UPDATE audits_unit SET name = %s WHERE id = %s", [unit.name + "·改", unit.pk]
            )
    assert verify().ok


def test_row_and_leaf_rewritten_with_recomputed_plain_hash(trail):
    """Without the HMAC key the forger cannot produce the leaf's MAC."""
    seq = trail.seqs[1]
    with superuser() as su:
        restore = Restore(su, [seq])
        leaf = su.execute("SELECT leaf FROM audit_seal WHERE seq = %s", [seq]).fetchone()[0]
        su.execute("UPDATE audit_event SET actor_label = 'forged' WHERE seq = %s", [seq])
        from audits.trail.sql import CANONICAL_EVENT

        canonical = su.execute(
            f"SELECT {CANONICAL_EVENT} FROM audit_event e"  # noqa: S608
            " WHERE seq = %s",
            [seq],
        ).fetchone()[0]
        forged = hashlib.sha256(b"\x00" + canonical.encode()).digest()
        su.execute("UPDATE audit_seal SET leaf = %s WHERE seq = %s", [forged, seq])
        try:
            report = verify()
            assert report.first_bad_seq == seq
            kinds = {p.kind for p in report.problems if p.seq == seq}
            assert "bad_mac" in kinds
            assert "changed" not in kinds
        finally:
            su.execute("UPDATE audit_seal SET leaf = %s WHERE seq = %s", [leaf, seq])
            restore()
    assert verify().ok


def test_head_rewritten_and_signed_with_another_key(trail):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audits.trail.seal import head_message

    head = current_head()
    forged_root = hashlib.sha256(b"another history").digest()
    signature = Ed25519PrivateKey.generate().sign(
        head_message(head.tree_size, forged_root, head.signed_at)
    )
    with superuser() as su:
        su.execute(
            "UPDATE audit_head SET root = %s, signature = %s WHERE tree_size = %s",
            [forged_root, signature, head.tree_size],
        )
        try:
            report = verify()
            assert report.first_bad_seq == head.tree_size
            assert {"bad_head", "bad_signature"} <= {p.kind for p in report.problems}
        finally:
            su.execute(
                "UPDATE audit_head SET root = %s, signature = %s WHERE tree_size = %s",
                [head.root, head.signature, head.tree_size],
            )
    assert verify().ok


def test_dropping_newest_events_and_resealing_is_caught_by_an_older_head(tmp_path):
    """Internally consistent again afterwards: only someone holding an older head sees it."""
    UnitFactory()
    seal_all()
    cut = current_head().tree_size
    UnitFactory()
    seal_all()
    held = current_head().as_dict()  # e.g. the daily e-mail
    with superuser() as su:  # drop the newest event(s) and everything sealed over them
        su.execute("DELETE FROM audit_event WHERE seq > %s", [cut])
        su.execute("DELETE FROM audit_seal WHERE seq > %s", [cut])
        su.execute("DELETE FROM audit_head WHERE tree_size > %s", [cut])
        su.execute("DELETE FROM audit_node WHERE (idx + 1) * (1::bigint << level) > %s", [cut])
    UnitFactory()  # life goes on; the sealer reseals over the hole
    seal_all()
    assert verify().ok  # the rewritten history is self-consistent...
    proof = proofs.event_proof(1, since=held["tree_size"])
    key = base64.b64decode(proofs.public_key_info()["public_key"])
    errors = check_proof.check(proof, key, published=held)
    assert errors
    assert "does not extend your head" in errors[-1]
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(held))
    with pytest.raises(CommandError):
        call_command(
            "check_audit_proof",
            str(path),
            "--public-key",
            proofs.public_key_info()["public_key"],
            "--head",
            str(head_file),
        )


@pytest.mark.parametrize("table", ["audit_event", "audit_seal", "audit_head", "audit_node"])
def test_application_role_cannot_change_or_delete(table):
    UserFactory()
    seal_all()
    column = {"audit_head": "tree_size", "audit_node": "level"}.get(table, "seq")
    for statement in (
        f"UPDATE {table} SET {column} = {column}",  # noqa: S608
        f"DELETE FROM {table}",  # noqa: S608
        f"TRUNCATE {table}",
    ):
        with (
            pytest.raises(DatabaseError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
        assert refused.value.__cause__.sqlstate == "42501"  # insufficient_privilege
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False
