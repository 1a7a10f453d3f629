"""What an auditor needs to check one event, or two heads, on their own (docs/AUDIT.md).

A proof holds the event's canonical bytes, its leaf index, the inclusion path to a signed
head and that head; with `since`, also the consistency proof from an older head the auditor
holds. `audits/trail/check_proof.py` checks it with nothing but the JSON and the public key.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from audits.trail import keys, merkle
from audits.trail.seal import SignedHead, current_head, head_at, subtree_hasher
from audits.trail.sql import CANONICAL_EVENT

FORMAT = "duchaa-audit-proof/v1"


class ProofError(LookupError):
    """The event or head asked for is not sealed (yet)."""


def public_key_info() -> dict[str, Any]:
    return {
        "algorithm": "Ed25519",
        "public_key": keys.public_key_b64(),
        "key_id": keys.key_id(),
        "pem": keys.public_key_pem(),
        "head_message": "duchaa-audit-head/v1\\n{tree_size}\\n{root hex}\\n{signed_at}\\n",
    }


def _head(tree_size: int | None) -> SignedHead:
    head = current_head() if tree_size is None else head_at(tree_size)
    if head is None:
        raise ProofError("no such signed head")
    return head


def _older(size: int, head: SignedHead) -> dict[str, Any]:
    """The older side of a consistency proof: a size the auditor holds a head of (it need
    not be stored here any more; the auditor compares with the root they hold)."""
    if not 0 < size <= head.tree_size:
        raise ProofError("cannot prove consistency with a tree larger than the head")
    stored = head_at(size)
    return stored.as_dict() if stored else {"tree_size": size}


def consistency(first: int, second: int | None = None) -> dict[str, Any]:
    """Consistency proof from size `first` to a signed head (default: the newest)."""
    new = _head(second)
    old = _older(first, new)
    with connection.cursor() as cursor:
        path = (
            []
            if first == new.tree_size
            else merkle.consistency_proof(first, new.tree_size, subtree_hasher(cursor))
        )
    return {
        "format": FORMAT,
        "first": old,
        "second": new.as_dict(),
        "proof": [h.hex() for h in path],
    }


def event_proof(seq: int, tree_size: int | None = None, since: int | None = None) -> dict[str, Any]:
    """Inclusion of sequence number `seq` in a signed head (default: the newest)."""
    head = _head(tree_size)
    if not 1 <= seq <= head.tree_size:
        raise ProofError("not sealed under that head")
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, leaf FROM audit_seal WHERE seq = %s", [seq])
        sealed = cursor.fetchone()
        if sealed is None:
            raise ProofError("not sealed")
        kind, leaf = sealed[0], bytes(sealed[1])
        if kind == "event":
            cursor.execute(
                f"SELECT {CANONICAL_EVENT} FROM audit_event e"  # noqa: S608
                " WHERE e.seq = %s",
                [seq],
            )
            row = cursor.fetchone()
            canonical = row[0] if row else None
        else:
            canonical = merkle.gap_bytes(seq).decode()
        hasher = subtree_hasher(cursor)
        path = merkle.inclusion_proof(seq - 1, head.tree_size, hasher)
        proof: dict[str, Any] = {
            "format": FORMAT,
            "seq": seq,
            "leaf_index": seq - 1,
            "kind": kind,
            "canonical": canonical,
            "leaf_hash": leaf.hex(),
            "head": head.as_dict(),
            "inclusion": [h.hex() for h in path],
            "public_key": keys.public_key_b64(),
        }
        if since is not None:
            proof["consistency"] = {
                "first": _older(since, head),
                "proof": []
                if since == head.tree_size
                else [h.hex() for h in merkle.consistency_proof(since, head.tree_size, hasher)],
            }
    return proof
