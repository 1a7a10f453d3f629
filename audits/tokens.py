"""The bearer tokens of a device session: signed JWTs (simplejwt), minted and read here only.

The verbs (audits/services/accounts.py) deal in device sessions; this module alone knows the
tokens' format. A refresh token carries its session (`sid`), its device and its `jti`, the
one refresh token of the session that is still good (audits/api/authentication.py checks an
access token's session on every request).
"""

import uuid
from dataclasses import dataclass

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from audits.models import DeviceSession


class Unreadable(Exception):
    """Not a refresh token this service signed, or one that has expired."""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def issue(session: DeviceSession) -> TokenPair:
    """A new pair for the session; the session keeps the refresh token's `jti` (not saved)."""
    refresh = RefreshToken.for_user(session.user)
    refresh["sid"] = str(session.id)
    refresh["device_id"] = session.device_id
    session.refresh_jti = refresh["jti"]
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


@dataclass(frozen=True)
class RefreshClaims:
    session_id: uuid.UUID
    jti: str


def read_refresh(raw: str) -> RefreshClaims:
    """The session and `jti` a refresh token names, or Unreadable."""
    try:
        # simplejwt annotates the encoded token as a Token; it takes (and means) the string.
        payload = RefreshToken(raw).payload  # type: ignore[arg-type]
        return RefreshClaims(session_id=uuid.UUID(str(payload["sid"])), jti=str(payload["jti"]))
    except (TokenError, KeyError, ValueError) as exc:
        raise Unreadable() from exc
