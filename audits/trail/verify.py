"""Verification: walk everything sealed, recompute it from the rows, name the first bad event.

One pass in sequence order over three server-side cursors (events, leaves, heads):

- each event's leaf is recomputed from its canonical bytes and compared with the sealed leaf
  (a changed field, a changed time, two swapped rows all change it);
- a sealed event leaf with no row is a deleted event; a row where a gap was sealed, or with no
  leaf inside the sealed range, is an inserted one;
- every stored leaf's HMAC is checked with the key from the environment, so leaves rewritten
  with recomputed plain hashes are caught;
- the tree is rebuilt as it goes and every signed head's root and Ed25519 signature checked;
- then, table by table, each live object's current row is compared with the last values its
  events recorded (where the table has a single-column key and a capture trigger).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from audits.trail import keys, merkle
from audits.trail.seal import SignedHead, head_message
from audits.trail.sql import CANONICAL_EVENT

MAX_PROBLEMS = 100
MAX_GAPS_LISTED = 1000


@dataclass
class Problem:
    seq: int
    kind: str  # changed, deleted, inserted, unsealed, bad_mac, bad_head, bad_signature, object
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "detail": self.detail}


@dataclass
class Report:
    checked: int = 0
    events: int = 0
    gaps: list[int] = field(default_factory=list)
    gap_count: int = 0
    heads_checked: int = 0
    head: SignedHead | None = None
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)
    first_bad_seq: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None

    def bad(self, seq: int, kind: str, detail: str) -> None:
        if self.first_bad_seq is None or seq < self.first_bad_seq:
            self.first_bad_seq = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, kind, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": self.head.as_dict() if self.head else None,
            "first_bad_seq": self.first_bad_seq,
            "events": self.events,
            "gaps": self.gaps,
            "gap_count": self.gap_count,
            "heads_checked": self.heads_checked,
            "unsealed": self.unsealed,
            "problems": sorted((p.as_dict() for p in self.problems), key=lambda p: p["seq"]),
            "seconds": round(self.seconds, 3),
        }


def _stream(raw: Any, name: str, sql: str, params: list) -> Iterator[tuple]:
    with raw.cursor(name=name) as cursor:
        cursor.itersize = 5000
        cursor.execute(sql, params)
        yield from cursor


def verify(*, objects: bool = True) -> Report:
    """Check the whole sealed trail (and, with `objects`, the objects' current rows)."""
    started = time.perf_counter()
    report = Report()
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(tree_size) FROM audit_head")
            size = cursor.fetchone()[0] or 0
            _walk(raw, size, report)
            cursor.execute("SELECT count(*) FROM audit_event WHERE seq > %s", [size])
            report.unsealed = cursor.fetchone()[0]
            cursor.execute("SELECT min(seq) FROM audit_seal WHERE seq > %s", [size])
            stray = cursor.fetchone()[0]
            if stray is not None:
                report.bad(stray, "inserted", "leaf sealed beyond the newest signed head")
            if objects:
                _check_objects(cursor, report)
    report.seconds = time.perf_counter() - started
    return report


def _walk(raw: Any, size: int, report: Report) -> None:
    key = keys.hmac_key()
    own_key_id = keys.key_id()
    events = _stream(
        raw,
        "audit_verify_events",
        f"SELECT e.seq, {CANONICAL_EVENT} FROM audit_event e"  # noqa: S608
        " WHERE e.seq <= %s ORDER BY e.seq",
        [size],
    )
    seals = _stream(
        raw,
        "audit_verify_seals",
        "SELECT seq, kind, leaf, mac FROM audit_seal WHERE seq <= %s ORDER BY seq",
        [size],
    )
    heads = _stream(
        raw,
        "audit_verify_heads",
        "SELECT tree_size, root, signed_at, key_id, signature FROM audit_head ORDER BY tree_size",
        [],
    )
    event = next(events, None)
    seal = next(seals, None)
    head = next(heads, None)
    tree = merkle.CompactRange()
    sha_leaf = merkle.leaf_hash
    for seq in range(1, size + 1):
        canonical = None
        if event is not None and event[0] == seq:
            canonical = event[1]
            event = next(events, None)
        stored = None
        if seal is not None and seal[0] == seq:
            stored = seal
            seal = next(seals, None)
        if canonical is not None:
            leaf = sha_leaf(canonical.encode())
            report.events += 1
        else:
            leaf = sha_leaf(merkle.gap_bytes(seq))
        if stored is None:
            report.bad(seq, "unsealed", "no sealed leaf inside the sealed range")
        else:
            _, kind, stored_leaf, stored_mac = stored
            stored_leaf = bytes(stored_leaf)
            if kind == "gap":
                report.gap_count += 1
                if len(report.gaps) < MAX_GAPS_LISTED:
                    report.gaps.append(seq)
            if kind == "event" and canonical is None:
                report.bad(seq, "deleted", "a sealed event is missing")
            elif kind == "gap" and canonical is not None:
                report.bad(seq, "inserted", "an event where a gap was sealed")
            elif stored_leaf != leaf:
                report.bad(seq, "changed", "the event differs from what was sealed")
            if not hmac.compare_digest(bytes(stored_mac), keys.mac(stored_leaf, key)):
                report.bad(seq, "bad_mac", "the sealed leaf's HMAC does not match")
            leaf = stored_leaf
        tree.append(leaf)
        report.checked += 1
        while head is not None and head[0] == seq:
            _check_head(head, tree.root(), own_key_id, report)
            head = next(heads, None)
    while head is not None:  # heads at sizes the walk never reached (0, or beyond)
        _check_head(head, merkle.EMPTY_ROOT if head[0] == 0 else b"", own_key_id, report)
        head = next(heads, None)


def _check_head(row: tuple, root: bytes, own_key_id: str, report: Report) -> None:
    tree_size, stored_root, signed_at, key_id, signature = row
    signed = SignedHead(tree_size, bytes(stored_root), signed_at, key_id, bytes(signature))
    report.heads_checked += 1
    report.head = signed
    seq = max(tree_size, 1)
    if signed.root != root:
        report.bad(seq, "bad_head", f"head {tree_size}: root differs from the recomputed tree")
    if key_id != own_key_id or not keys.signature_ok(
        head_message(tree_size, signed.root, signed_at), signed.signature
    ):
        report.bad(seq, "bad_signature", f"head {tree_size}: signature invalid")


def audited_tables(cursor: Any) -> list[tuple[str, str, str]]:
    """(table, object type, key column) of every table under a capture trigger."""
    cursor.execute(
        "SELECT c.relname, t.tgargs FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE t.tgname = 'audit_capture' AND n.nspname = current_schema() ORDER BY 1"
    )
    out = []
    for table, args in cursor.fetchall():
        parts = bytes(args).split(b"\x00")
        out.append((table, parts[0].decode(), parts[1].decode()))
    return out


_OBJECTS = """
WITH ev AS (
    SELECT seq, operation, object_id, after FROM audit_event
     WHERE object_type = %(type)s AND operation IN ('create', 'update', 'delete')
), lastop AS (
    SELECT DISTINCT ON (object_id) object_id, operation, seq FROM ev
     ORDER BY object_id, seq DESC
), latest AS (
    SELECT DISTINCT ON (ev.object_id, kv.key) ev.object_id, kv.key, kv.value, ev.seq
      FROM ev CROSS JOIN LATERAL jsonb_each(ev.after) kv
     WHERE ev.operation IN ('create', 'update') AND kv.value <> '"[redacted]"'::jsonb
     ORDER BY ev.object_id, kv.key, ev.seq DESC
), cut AS (
    SELECT coalesce(max(seq), 0) AS seq FROM audit_event
     WHERE object_type = %(type)s AND operation = 'truncate'
), cur AS (
    SELECT r.{pk}::text AS object_id, to_jsonb(r) AS row FROM {table} r
)
SELECT min(bad) FROM (
    SELECT l.seq AS bad FROM lastop l CROSS JOIN cut
      LEFT JOIN cur ON cur.object_id = l.object_id
     WHERE l.operation <> 'delete' AND cur.object_id IS NULL AND l.seq > cut.seq
    UNION ALL
    SELECT x.seq FROM latest x JOIN lastop l USING (object_id) CROSS JOIN cut
      JOIN cur ON cur.object_id = x.object_id
     WHERE l.operation <> 'delete' AND l.seq > cut.seq AND cur.row ? x.key
       AND cur.row -> x.key IS DISTINCT FROM x.value
    UNION ALL
    SELECT l.seq FROM lastop l CROSS JOIN cut JOIN cur ON cur.object_id = l.object_id
     WHERE l.operation = 'delete' AND l.seq > cut.seq
) b
"""


def _check_objects(cursor: Any, report: Report) -> None:
    quote = connection.ops.quote_name
    for table, object_type, pk in audited_tables(cursor):
        cursor.execute(_OBJECTS.format(table=quote(table), pk=quote(pk)), {"type": object_type})
        bad = cursor.fetchone()[0]
        if bad is not None:
            report.bad(
                bad,
                "object",
                f"{object_type}: the current row no longer matches the values its events recorded",
            )
