"""RFC 6962 Merkle trees (RFC 9162 section 2.1): hashes, compact ranges, proofs.

Pure Python, no Django: the same functions seal, verify and build proofs. Leaf `i` of the
audit tree is sequence number `i + 1`. Proof *verification* is reimplemented independently
in `audits/trail/check_proof.py`, the auditors' script, so a bug here cannot hide itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()

# A perfect subtree: 2**level leaves starting at leaf idx * 2**level.
Subtree = tuple[int, int]
Hasher = Callable[[list[Subtree]], dict[Subtree, bytes]]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def gap_bytes(seq: int) -> bytes:
    """The canonical bytes of a sequence number that holds no event (a rolled-back value)."""
    return b'{"v": 1, "gap": true, "seq": %d}' % seq


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def decompose(start: int, end: int) -> list[Subtree]:
    """[start, end) as aligned perfect subtrees, left to right (start aligned as in RFC 6962)."""
    out = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size): append and root in O(log n).

    `on_node(level, idx, hash)` is told of each complete subtree as it is formed.
    """

    def __init__(
        self,
        size: int = 0,
        hashes: Iterable[bytes] = (),
        on_node: Callable[[int, int, bytes], None] | None = None,
    ) -> None:
        self.size = size
        self.stack: list[tuple[int, bytes]] = []
        self.on_node = on_node
        levels = [level for level, _ in decompose(0, size)]
        self.stack = list(zip(levels, hashes, strict=True))

    def append(self, leaf: bytes) -> None:
        level, value, index = 0, leaf, self.size
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            value = node_hash(left, value)
            level += 1
            if self.on_node is not None:
                self.on_node(level, index >> level, value)
        self.stack.append((level, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = node_hash(left, value)
        return value


def root_of(leaves: list[bytes]) -> bytes:
    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()


class _Tree:
    """Subtree hashes for proofs; `hasher` answers a batch of perfect subtrees at once."""

    def __init__(self, hasher: Hasher) -> None:
        self.hasher = hasher
        self.known: dict[Subtree, bytes] = {}
        self.wanted: set[Subtree] = set()

    def mth(self, start: int, end: int) -> bytes:
        parts = decompose(start, end)
        missing = [p for p in parts if p not in self.known]
        if missing:
            self.wanted.update(missing)
            return b""
        value = self.known[parts[-1]]
        for part in reversed(parts[:-1]):
            value = node_hash(self.known[part], value)
        return value

    def run(self, build: Callable[[_Tree], list[bytes]]) -> list[bytes]:
        build(self)  # first pass: learn which subtrees the proof needs
        if self.wanted:
            self.known.update(self.hasher(sorted(self.wanted)))
            self.wanted.clear()
        result = build(self)
        if self.wanted:
            raise RuntimeError("subtree hashes missing after fetch")
        return result


def inclusion_proof(index: int, size: int, hasher: Hasher) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 section 2.1.1."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")

    def path(tree: _Tree) -> list[bytes]:
        out: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = split(end - start)
            if index < start + k:
                out.append(tree.mth(start + k, end))
                end = start + k
            else:
                out.append(tree.mth(start, start + k))
                start += k
        return list(reversed(out))

    return _Tree(hasher).run(path)


def consistency_proof(first: int, second: int, hasher: Hasher) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 section 2.1.2."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")

    def proof(tree: _Tree) -> list[bytes]:
        out: list[bytes] = []
        m, start, end, complete = first, 0, second, True
        while True:
            n = end - start
            if m == n:
                if not complete:
                    out.append(tree.mth(start, end))
                break
            k = split(n)
            if m <= k:
                out.append(tree.mth(start + k, end))
                end = start + k
            else:
                out.append(tree.mth(start, start + k))
                m, start, complete = m - k, start + k, False
        return list(reversed(out))

    return _Tree(hasher).run(proof)
