"""Sealing: committed events, in sequence order, into an RFC 6962 Merkle tree; signed heads.

One sealer at a time (a transaction-level advisory lock, tried, never waited on); writers never
take it. Each run reads the events after the last sealed sequence number, stops at the first
hole that a transaction still in flight might fill, seals a hole that can no longer fill as a
*gap* leaf (reported by verification), and writes the leaves, the complete subtrees formed
and one signed head, in one transaction. Design and threat model: docs/AUDIT.md.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from audits.trail import keys, merkle
from audits.trail.sql import CANONICAL_EVENT

NODE_MIN_LEVEL = 4  # subtrees of 16 leaves and more are stored; smaller ones are hashed anew
LOCK_KEY = 0x6475636861615345  # "duchaaSE": the sealer's advisory lock
HEAD_PREFIX = "duchaa-audit-head/v1"


def time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def head_message(tree_size: int, root: bytes, signed_at: datetime) -> bytes:
    """The exact bytes each head's Ed25519 signature covers."""
    return f"{HEAD_PREFIX}\n{tree_size}\n{root.hex()}\n{time_text(signed_at)}\n".encode()


@dataclass(frozen=True)
class SignedHead:
    tree_size: int  # leaves 1..tree_size, i.e. every sequence number up to this one
    root: bytes
    signed_at: datetime
    key_id: str
    signature: bytes

    @property
    def last_seq(self) -> int:
        return self.tree_size

    def message(self) -> bytes:
        return head_message(self.tree_size, self.root, self.signed_at)

    def signature_ok(self) -> bool:
        return keys.signature_ok(self.message(), self.signature)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "last_seq": self.last_seq,
            "root": self.root.hex(),
            "signed_at": time_text(self.signed_at),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
            "message": self.message().decode(),
        }

    def printable(self) -> str:
        """One line for a printed document: sequence number, root, signature."""
        return _(
            "审计链已封存至第 %(seq)s 号记录；根哈希 %(root)s；Ed25519 签名 %(sig)s"
            "（密钥 %(key)s，%(at)s）"
        ) % {
            "seq": self.tree_size,
            "root": self.root.hex(),
            "sig": base64.b64encode(self.signature).decode(),
            "key": self.key_id,
            "at": time_text(self.signed_at),
        }


def _head(row: tuple | None) -> SignedHead | None:
    if row is None:
        return None
    size, root, signed_at, key_id, signature = row
    return SignedHead(size, bytes(root), signed_at, key_id, bytes(signature))


_HEAD_COLUMNS = "tree_size, root, signed_at, key_id, signature"


def current_head() -> SignedHead | None:
    """The newest signed head: the function documents call to print the current seal."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_HEAD_COLUMNS} FROM audit_head"  # noqa: S608
            " ORDER BY tree_size DESC LIMIT 1"
        )
        return _head(cursor.fetchone())


def head_at(tree_size: int) -> SignedHead | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_HEAD_COLUMNS} FROM audit_head"  # noqa: S608
            " WHERE tree_size = %s",
            [tree_size],
        )
        return _head(cursor.fetchone())


def subtree_hasher(cursor: Any) -> merkle.Hasher:
    """Hashes of perfect subtrees: stored nodes, else recomputed from the sealed leaves."""

    def leaves(first: int, last: int) -> list[bytes]:
        cursor.execute(
            "SELECT leaf FROM audit_seal WHERE seq BETWEEN %s AND %s ORDER BY seq", [first, last]
        )
        found = [bytes(row[0]) for row in cursor.fetchall()]
        if len(found) != last - first + 1:
            raise LookupError(f"sealed leaves {first}..{last} incomplete")
        return found

    def fetch(parts: list[merkle.Subtree]) -> dict[merkle.Subtree, bytes]:
        out: dict[merkle.Subtree, bytes] = {}
        stored = [p for p in parts if p[0] >= NODE_MIN_LEVEL]
        if stored:
            cursor.execute(
                "SELECT n.level, n.idx, n.hash FROM audit_node n"
                " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx)"
                " ON n.level = w.level AND n.idx = w.idx",
                [[p[0] for p in stored], [p[1] for p in stored]],
            )
            out.update({(level, idx): bytes(h) for level, idx, h in cursor.fetchall()})
        small = [p for p in parts if p not in out]
        wanted = sorted(
            {
                (idx << level) + 1 + i
                for level, idx in small
                if level < NODE_MIN_LEVEL
                for i in range(1 << level)
            }
        )
        by_seq: dict[int, bytes] = {}
        if wanted:
            cursor.execute("SELECT seq, leaf FROM audit_seal WHERE seq = ANY(%s)", [wanted])
            by_seq = {seq: bytes(leaf) for seq, leaf in cursor.fetchall()}
        for level, idx in small:
            first, last = (idx << level) + 1, (idx + 1) << level
            if level < NODE_MIN_LEVEL:
                try:
                    chunk = [by_seq[s] for s in range(first, last + 1)]
                except KeyError as exc:
                    raise LookupError(f"sealed leaf {exc} missing") from exc
            else:  # a stored node is missing: recompute it (slow, but still right)
                chunk = leaves(first, last)
            out[(level, idx)] = merkle.root_of(chunk)
        return out

    return fetch


@dataclass
class SealRun:
    events: int = 0
    gaps: int = 0
    head: SignedHead | None = None
    waiting_at: int | None = None  # a hole that may still fill: sealing waits there


_GAP_PERMANENT = """
SELECT NOT EXISTS (
    SELECT 1 FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND backend_type = 'client backend' AND xact_start < %(t0)s)
   AND NOT EXISTS (
    SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) x
     WHERE x::text::bigint < %(horizon)s
       AND x IS DISTINCT FROM pg_current_xact_id_if_assigned()
       AND mod(x::text::bigint, 4294967296) NOT IN (
           SELECT backend_xid::text::bigint FROM pg_stat_activity
            WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL))
"""


def _hole_is_permanent(cursor: Any, first: int, end: int, t0: datetime, horizon: int) -> bool:
    """Can sequence numbers [first, end) still be filled by a commit?

    Whoever drew them drew them before the later, visible event was drawn, so its
    transaction started before `t0` (read after our snapshot) and, if it had an xid, that xid
    is below `horizon`. If no session of this database has a transaction open since before
    `t0` and no transaction below `horizon` is running, the values were rolled back.
    """
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(_GAP_PERMANENT, {"t0": t0, "horizon": horizon})
    if not cursor.fetchone()[0]:
        return False
    # It may have committed between our snapshot and the check: look again.
    cursor.execute("SELECT 1 FROM audit_event WHERE seq >= %s AND seq < %s LIMIT 1", [first, end])
    return cursor.fetchone() is None


def _seal_batch(cursor: Any, batch: int) -> SealRun:
    run = SealRun()
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
    if not cursor.fetchone()[0]:
        return run
    cursor.execute("SELECT coalesce(max(tree_size), 0) FROM audit_head")
    last = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT e.seq, {CANONICAL_EVENT} FROM audit_event e"  # noqa: S608
        " WHERE e.seq > %s ORDER BY e.seq LIMIT %s",
        [last, batch],
    )
    rows = cursor.fetchall()
    if not rows:
        return run
    cursor.execute(
        "SELECT clock_timestamp(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
    )
    t0, horizon = cursor.fetchone()
    leaves: list[tuple[int, str, bytes]] = []
    expected = last + 1
    for seq, canonical in rows:
        if seq > expected:
            if not _hole_is_permanent(cursor, expected, seq, t0, horizon):
                run.waiting_at = expected
                break
            room = batch - len(leaves)
            for gap in range(expected, min(seq, expected + room)):
                leaves.append((gap, "gap", merkle.leaf_hash(merkle.gap_bytes(gap))))
                run.gaps += 1
            if seq - expected > room:
                break
        leaves.append((seq, "event", merkle.leaf_hash(canonical.encode())))
        run.events += 1
        expected = seq + 1
        if len(leaves) >= batch:
            break
    if not leaves:
        return run

    parts = merkle.decompose(0, last)
    known = subtree_hasher(cursor)(parts) if parts else {}
    nodes: list[tuple[int, int, bytes]] = []

    def keep(level: int, idx: int, value: bytes) -> None:
        if level >= NODE_MIN_LEVEL:
            nodes.append((level, idx, value))

    tree = merkle.CompactRange(last, [known[p] for p in parts], on_node=keep)
    key = keys.hmac_key()
    raw = cursor.cursor  # psycopg's own cursor, for COPY
    with raw.copy("COPY audit_seal (seq, kind, leaf, mac) FROM STDIN") as copy:
        for seq, kind, leaf in leaves:
            tree.append(leaf)
            copy.write_row((seq, kind, leaf, keys.mac(leaf, key)))
    if nodes:
        with raw.copy("COPY audit_node (level, idx, hash) FROM STDIN") as copy:
            for row in nodes:
                copy.write_row(row)
    root = tree.root()
    signed_at = datetime.now(UTC)
    signature = keys.sign(head_message(tree.size, root, signed_at))
    cursor.execute(
        "INSERT INTO audit_head (tree_size, root, signed_at, key_id, signature)"
        " VALUES (%s, %s, %s, %s, %s)",
        [tree.size, root, signed_at, keys.key_id(), signature],
    )
    run.head = SignedHead(tree.size, root, signed_at, keys.key_id(), signature)
    return run


def seal(batch: int | None = None, max_batches: int = 1000) -> SealRun:
    """Seal what has committed, one transaction per batch, until caught up or waiting."""
    batch = batch or settings.AUDIT_SEAL_BATCH
    total = SealRun()
    for _batch in range(max_batches):
        with transaction.atomic(), connection.cursor() as cursor:
            run = _seal_batch(cursor, batch)
        total.events += run.events
        total.gaps += run.gaps
        total.head = run.head or total.head
        total.waiting_at = run.waiting_at
        if run.head is None or run.waiting_at is not None or run.events + run.gaps < batch:
            break
    return total
