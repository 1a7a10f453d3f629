"""Sign-in, token rotation and sign-out, one device session at a time."""

import hashlib
import math
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits import ratelimit, tokens
from audits.errors import ErrorCode, NotAuthenticated, Throttled
from audits.models import DeviceSession, User
from audits.services.common import acting
from audits.trail import context
from audits.trail.events import record_event


class BadCredentials(NotAuthenticated):
    code = ErrorCode.BAD_CREDENTIALS


class SignInThrottled(Throttled):
    def __init__(self, wait: float) -> None:
        wait = max(1, math.ceil(wait))
        super().__init__(
            _("登录尝试过于频繁，请在 %(seconds)d 秒后再试。") % {"seconds": wait}, wait=wait
        )


class BadRefreshToken(NotAuthenticated):
    code = ErrorCode.TOKEN_NOT_VALID

    def __init__(self) -> None:
        super().__init__(_("刷新令牌无效或已失效。"))


def normalize_username(raw: str) -> str:
    """The one spelling of a typed name that the limits and authentication both see.

    Django's sign-in form strips the name and applies NFKC; every way in does the same here,
    so a name with spaces or a tab around it, or in full-width letters, is one name for the
    throttles as it is for the form. Case is kept: Django's backend matches names exactly.
    """
    name = raw.strip()
    if len(name) > (User._meta.get_field("username").max_length or 0):
        # No such user can exist; like Django's form, do not spend NFKC on the long input.
        return name
    return unicodedata.normalize("NFKC", name).strip()


def user_sign_in(
    *, username: str, password: str, address: str | None, via: str, device_id: str = ""
) -> User:
    """The one way in: normalise the name, apply the limits, check the password, audit a refusal.

    Every sign-in calls this (the API's token, the web form, the admin through the web
    form); `via` names which one. Only refused attempts count against the limits. A throttled
    attempt raises `SignInThrottled` without trying the password. The caller opens its own
    session, recorded as `auth.login`.
    """
    name = normalize_username(username)
    ident, at = hashlib.sha256(name.encode()).hexdigest(), address or "-"
    try:
        reservation = ratelimit.reserve(_limits(ident, at))
    except ratelimit.Exceeded as exc:
        raise SignInThrottled(exc.wait) from None
    user = authenticate(username=name, password=password)
    if user is None or not user.is_active:
        # Same answer whether or not the user exists; the attempt goes on the trail.
        data = {"via": via, "device_id": device_id} if device_id else {"via": via}
        with context.action("auth.login_failed"):
            record_event(
                action="auth.login_failed", object_type="user", object_id=name[:150], data=data
            )
        raise BadCredentials()
    ratelimit.release(reservation)
    cache.set(_known(ident, at), True, settings.SIGNIN_KNOWN_ADDRESS_DAYS * 86400)
    return user


def _limits(ident: str, at: str) -> list[ratelimit.Limit]:
    """Per address; per name from that address; per name from anywhere but known addresses.

    The per-name ceiling slows guessing spread over many addresses. It spares the addresses
    the name has signed in from before, so an attacker who reaches it cannot keep the user
    out where they usually are; others wait at most one window (docs/OPERATIONS.md). `ident`
    is the name's SHA-256, `at` the address ("-" for callers without one).
    """
    limits = [
        ratelimit.Limit(f"signin:address:{at}", settings.SIGNIN_LIMIT_ADDRESS),
        ratelimit.Limit(f"signin:name:{ident}:{at}", settings.SIGNIN_LIMIT_USERNAME),
    ]
    if not cache.get(_known(ident, at)):
        limits.append(
            ratelimit.Limit(f"signin:name:{ident}", settings.SIGNIN_LIMIT_USERNAME_GLOBAL)
        )
    return limits


def _known(ident: str, address: str) -> str:
    return f"signin:known:{ident}:{address}"


def session_login(
    *, username: str, password: str, device_id: str, address: str | None = None
) -> tokens.TokenPair:
    """Sign in on a device (see `user_sign_in`) and open its device session."""
    user = user_sign_in(
        username=username, password=password, address=address, via="api", device_id=device_id
    )
    with (
        transaction.atomic(),
        context.user_context(user, device_id=device_id),
        context.action("auth.login"),
    ):
        session = DeviceSession(user=user, device_id=device_id)
        pair = tokens.issue(session)
        session.save()
    return pair


def web_session_open(*, user: User) -> None:
    """Record a sign-in on the web pages; the session itself is Django's, not an audited row."""
    with acting(user, "auth.login"):
        record_event(
            action="auth.login", object_type="user", object_id=str(user.pk), data={"via": "web"}
        )


def session_refresh(*, refresh: str) -> tokens.TokenPair:
    """Rotate: the presented refresh token is spent; a replayed one revokes the session."""
    token = _decode(refresh)
    pair = None
    with transaction.atomic():
        session = (
            DeviceSession.objects.select_for_update()
            .select_related("user")
            .filter(id=token.session_id)
            .first()
        )
        if session is None or session.revoked_at or not session.user.is_active:
            raise BadRefreshToken()
        with context.user_context(session.user, device_id=session.device_id):
            if session.refresh_jti != token.jti:
                # A spent token came back: someone holds a copy. End the session for both.
                with context.action("auth.refresh_reused"):
                    session.revoked_at, session.revoked_reason = timezone.now(), "reuse"
                    session.save(update_fields=["revoked_at", "revoked_reason"])
            else:
                with context.action("auth.refresh"):
                    pair = tokens.issue(session)
                    session.refreshed_at = timezone.now()
                    session.save(update_fields=["refresh_jti", "refreshed_at"])
    if pair is None:
        raise BadRefreshToken()
    return pair


def session_logout(*, refresh: str, user: User | None = None) -> None:
    """Revoke the device session the refresh token belongs to: all its tokens stop working."""
    token = _decode(refresh)
    with transaction.atomic():
        session = (
            DeviceSession.objects.select_for_update()
            .select_related("user")
            .filter(id=token.session_id)
            .first()
        )
        if session is None or (user is not None and session.user_id != user.pk):
            raise BadRefreshToken()
        if session.revoked_at:
            return
        with (
            context.user_context(session.user, device_id=session.device_id),
            context.action("auth.logout"),
        ):
            session.revoked_at, session.revoked_reason = timezone.now(), "logout"
            session.save(update_fields=["revoked_at", "revoked_reason"])


def expire_idle_sessions(*, idle_days: int | None = None) -> int:
    """Revoke device sessions not refreshed for `idle_days` (default DEVICE_SESSION_IDLE_DAYS);
    returns how many."""
    if idle_days is None:
        idle_days = settings.DEVICE_SESSION_IDLE_DAYS
    cutoff = timezone.now() - timedelta(days=idle_days)
    with transaction.atomic(), context.action("auth.session_expired"):
        return DeviceSession.objects.filter(
            revoked_at__isnull=True, refreshed_at__lt=cutoff
        ).update(revoked_at=timezone.now(), revoked_reason="idle")


def _decode(raw: str) -> tokens.RefreshClaims:
    try:
        return tokens.read_refresh(raw)
    except tokens.Unreadable as exc:
        raise BadRefreshToken() from exc
