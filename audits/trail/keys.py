"""The two keys of the seal, both from the environment (settings), never from the database.

- the HMAC key: leaf MACs, so that rows rewritten with recomputed plain hashes are caught;
- the Ed25519 signing key: tree heads, checked by anyone with the published public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _decode(name: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be base64") from exc


@lru_cache(maxsize=4)
def _hmac_key(value: str) -> bytes:
    key = _decode("AUDIT_HMAC_KEY", value)
    if len(key) < 32:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must hold at least 32 bytes")
    return key


@lru_cache(maxsize=4)
def _signing_key(value: str) -> Ed25519PrivateKey:
    seed = _decode("AUDIT_SIGNING_KEY", value)
    if len(seed) != 32:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def hmac_key() -> bytes:
    return _hmac_key(settings.AUDIT_HMAC_KEY)


def mac(leaf: bytes, key: bytes | None = None) -> bytes:
    """The keyed tag of a leaf hash."""
    return hmac.digest(key if key is not None else hmac_key(), leaf, "sha256")


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.AUDIT_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_raw() -> bytes:
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_raw()).decode()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id(raw: bytes | None = None) -> str:
    """First 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(raw if raw is not None else public_key_raw()).hexdigest()[:16]


def sign(message: bytes) -> bytes:
    return signing_key().sign(message)


def signature_ok(message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key().verify(signature, message)
    except InvalidSignature:
        return False
    return True
