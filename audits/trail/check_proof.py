#!/usr/bin/env python3
"""Check one audit event against a signed head, with no access to Duchá or its database.

    python check_proof.py proof.json --public-key <base64> [--head published-head.json]

`proof.json` is the answer of GET /api/v1/audit/events/{seq}/proof (add `?since=<tree size>`
to carry a consistency proof from a head you hold). The public key is the one published in
docs/AUDIT.md and at /api/v1/audit/public-key: take it from there, not from the proof.
`--head` is a signed head you obtained earlier (the daily e-mail, a printed document): the
proof's head must then extend it. Needs Python 3 and the `cryptography` package; this file
is self-contained (RFC 6962 / RFC 9162 verification written out below) and exits 0 when
everything holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from typing import Any


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_ok(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = node(r, p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def consistency_ok(m: int, n: int, old: bytes, new: bytes, proof: list[bytes]) -> bool:
    if m == n:
        return not proof and old == new
    if not 0 < m < n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old, *proof]
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = node(sr, c)
        fn, sn = fn // 2, sn // 2
    return fr == old and sr == new and sn == 0


def head_signature_ok(head: dict[str, Any], public_key: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    message = (
        f"duchaa-audit-head/v1\n{int(head['tree_size'])}\n{head['root']}\n{head['signed_at']}\n"
    ).encode()
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.b64decode(head["signature"]), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def check(
    proof: dict[str, Any], public_key: bytes, published: dict[str, Any] | None = None
) -> list[str]:
    """Everything wrong with the proof (an empty list: it holds)."""
    errors: list[str] = []
    seq, head = int(proof["seq"]), proof["head"]
    canonical = proof.get("canonical")
    if canonical is None:
        return [f"event {seq}: no row in the database although it was sealed (deleted?)"]
    try:
        if int(json.loads(canonical)["seq"]) != seq:
            errors.append(f"event {seq}: canonical bytes are of another sequence number")
    except (ValueError, KeyError, TypeError):
        errors.append(f"event {seq}: canonical bytes are not the expected JSON")
    leaf = hashlib.sha256(b"\x00" + canonical.encode()).digest()
    if leaf.hex() != proof["leaf_hash"]:
        errors.append(f"event {seq}: its bytes do not hash to the sealed leaf (changed?)")
    path = [bytes.fromhex(h) for h in proof["inclusion"]]
    if seq - 1 != int(proof["leaf_index"]) or not inclusion_ok(
        seq - 1, int(head["tree_size"]), leaf, path, bytes.fromhex(head["root"])
    ):
        errors.append(f"event {seq}: not included in head {head['tree_size']}")
    if not head_signature_ok(head, public_key):
        errors.append(f"head {head['tree_size']}: signature invalid for this public key")
    if published is not None:
        if not head_signature_ok(published, public_key):
            errors.append(f"your head {published['tree_size']}: signature invalid")
        m, n = int(published["tree_size"]), int(head["tree_size"])
        if m > n:
            errors.append(
                f"your head {m} is newer than the proof's head {n}: ask for the "
                f"proof with ?tree_size={m}"
            )
        elif m == n:
            if published["root"] != head["root"]:
                errors.append(f"head {n}: root differs from the one you hold (history rewritten)")
        else:
            cons = proof.get("consistency")
            if not cons or int(cons["first"]["tree_size"]) != m:
                errors.append(f"no consistency proof from your head {m}: ask with ?since={m}")
            elif not consistency_ok(
                m,
                n,
                bytes.fromhex(published["root"]),
                bytes.fromhex(head["root"]),
                [bytes.fromhex(h) for h in cons["proof"]],
            ):
                errors.append(
                    f"head {n} does not extend your head {m} (history rewritten or events dropped)"
                )
    return errors


def main(argv: list[str] | None = None, out: Any = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("proof", help="proof JSON file, or - for standard input")
    parser.add_argument(
        "--public-key",
        required=True,
        help="the published Ed25519 public key, base64 of its 32 bytes",
    )
    parser.add_argument(
        "--head", help="a signed head you hold (JSON: tree_size, root, signed_at, signature)"
    )
    args = parser.parse_args(argv)
    with sys.stdin if args.proof == "-" else open(args.proof, encoding="utf-8") as handle:
        proof = json.load(handle)
    published = None
    if args.head:
        with open(args.head, encoding="utf-8") as handle:
            published = json.load(handle)
        published = published.get("head", published)
    errors = check(proof, base64.b64decode(args.public_key), published)
    for error in errors:
        print(f"BAD: {error}", file=out)
    if errors:
        return 1
    event = json.loads(proof["canonical"])
    print(
        f"OK: event {proof['seq']} ({event.get('action', 'gap')}, {event.get('at', '-')}) is"
        f" in head {proof['head']['tree_size']} signed {proof['head']['signed_at']}"
        + (f", which extends your head {published['tree_size']}" if published else ""),
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


def check_archive(path: str, public_key: bytes) -> tuple[int, list[str]]:
    """Recompute an archive file's tree (written by `manage.py archive_audit`) and check that
    it reaches the signed head the file ends with. Returns (leaves checked, errors)."""
    import gzip

    errors: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        first, last, head = int(header["first_seq"]), int(header["last_seq"]), header["head"]
        size = first - 1  # leaves before the archive, summed up by `prefix`
        levels = [b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]
        stack = list(zip(levels, (bytes.fromhex(h) for h in header["prefix"]), strict=True))
        expected = first
        for line in handle:
            item = json.loads(line)
            seq = int(item["seq"])
            if seq != expected:
                errors.append(f"archive: sequence number {expected} missing")
                expected = seq
            canonical = item["canonical"].encode()
            if int(json.loads(canonical)["seq"]) != seq:
                errors.append(f"archive: event {seq} holds another event's bytes")
            level, value = 0, hashlib.sha256(b"\x00" + canonical).digest()
            while stack and stack[-1][0] == level:
                value, level = node(stack.pop()[1], value), level + 1
            stack.append((level, value))
            expected += 1
    if expected - 1 != last or int(head["tree_size"]) != last:
        errors.append(f"archive: ends at {expected - 1}, its head says {head['tree_size']}")
    root = stack[-1][1] if stack else hashlib.sha256(b"").digest()
    for _, left in reversed(stack[:-1]):
        root = node(left, root)
    if root.hex() != head["root"]:
        errors.append(f"archive: recomputed root differs from head {head['tree_size']}")
    if not head_signature_ok(head, public_key):
        errors.append(f"archive: head {head['tree_size']} signature invalid")
    return expected - first, errors
