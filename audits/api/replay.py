"""`Idempotency-Key` on every POST: a retry gets the first answer, never a second change.

The key is claimed inside the request's own transaction (ATOMIC_REQUESTS) by inserting a
row under a unique (user, key) index. A concurrent duplicate blocks on that uncommitted
row: when the first request commits, the duplicate finds its stored answer and replays it
(one change, two equal answers); when the first fails and rolls back, the claim vanishes
with everything else and the duplicate runs as if it were first. A duplicate still blocked
after `IDEMPOTENCY_WAIT_SECONDS` gets 409. The stored answer commits with the change, so a
remembered key always means the change happened.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from audits.errors import Conflict, DomainError, ErrorCode, Unprocessable
from audits.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Location", "ETag")
LOCK_NOT_AVAILABLE = "55P03"


class InvalidKey(DomainError):
    code = ErrorCode.INVALID_IDEMPOTENCY_KEY


class KeyReused(Unprocessable):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class InProgress(Conflict):
    code = ErrorCode.IDEMPOTENCY_IN_PROGRESS


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _fingerprint(request: Any, streamed: bool, fields: Mapping[str, str] | None = None) -> str:
    """What makes two requests "the same": method, path and body.

    Views that stream large bodies (uploads) are not read into memory for this. A multipart
    upload is identified by its form fields (`fields`: the photo's id, its target and its
    SHA-256, which stands for its bytes); a raw stream (a resumable chunk) by its headers
    (length and offset; the upload is in the path).
    """
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    if streamed:
        # The media type without its parameters: a client that retries a multipart body
        # builds a new boundary (and so another length), and that alone must not make it
        # "another request".
        media_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        digest.update(f"Content-Type={media_type}\0".encode())
    if fields is not None:
        for name in sorted(fields):
            digest.update(f"{name}={fields[name]}\0".encode())
    elif streamed:
        for name in ("Content-Length", "Upload-Offset"):
            digest.update(f"{name}={request.headers.get(name, '')}\0".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _claim(user_id: int, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the claim (None) or return the record of an earlier request with this key."""
    wait = int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000)
    # A claim can vanish between our insert and our read (its request failed and gave
    # the key back): then the key is free again, and we try once more to take it.
    for _attempt in range(3):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('lock_timeout')")
                previous = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait}ms"])
                cursor.execute(
                    "INSERT INTO audits_idempotencyrecord (user_id, key, fingerprint,"
                    " created_at, content_type) VALUES (%s, %s, %s, now(), '')"
                    " ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
                    [user_id, key, fingerprint],
                )
                claimed = cursor.fetchone() is not None
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise InProgress() from exc  # the first request is still running
            raise
        if claimed:
            return None
        record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
        if record is not None:
            return record
    raise InProgress()


class IdempotencyMixin:
    """For DRF views: honours `Idempotency-Key` on POST (see the module docstring).

    A view that streams a multipart body names the form fields that identify its request
    (`idempotency_fields`) and claims the key itself with `claim_idempotency(fields)` once
    it has read them, before the file when they come first.
    """

    idempotency_fields: tuple[str, ...] | None = None

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency = None
        self._idempotency_key = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or not request.user.is_authenticated:
            return
        if not 0 < len(key) <= 255:
            raise InvalidKey()
        if self.idempotency_fields is not None:
            self._idempotency_key = key
            return
        self._take(key, _fingerprint(request, streamed=hasattr(self, "max_body_bytes")))

    def claim_idempotency(self, fields: Mapping[str, str]) -> None:
        """Claim the pending key for the request these form fields identify (once)."""
        key, self._idempotency_key = self._idempotency_key, None
        if key is None:
            return
        named = {name: str(fields.get(name) or "") for name in self.idempotency_fields}
        self._take(key, _fingerprint(self.request, streamed=True, fields=named))

    def _take(self, key: str, fingerprint: str) -> None:
        request = self.request
        record = _claim(request.user.pk, key, fingerprint)
        if record is None:
            self._idempotency = (request.user.pk, key)
            return
        if record.fingerprint != fingerprint:
            raise KeyReused()
        if record.completed_at is None:
            raise InProgress()
        stored = json.loads(bytes(record.response))
        headers = {**stored["headers"], "Idempotent-Replayed": "true"}
        raise _Replay(Response(stored["data"], status=record.status_code, headers=headers))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        claim = getattr(self, "_idempotency", None)
        records = (
            None
            if claim is None
            else IdempotencyRecord.objects.filter(user_id=claim[0], key=claim[1])
        )
        if records is not None and 200 <= response.status_code < 300:
            # Stored in the request's transaction: it commits with the change, or not at all.
            headers = {name: response[name] for name in KEPT_HEADERS if name in response}
            stored = {"data": response.data, "headers": headers}
            records.update(
                status_code=response.status_code,
                content_type="application/json",
                response=json.dumps(stored, cls=JSONEncoder, ensure_ascii=False).encode(),
                completed_at=timezone.now(),
            )
        elif records is not None and not connection.needs_rollback:
            # A refusal that is not rolled back (an answer returned rather than raised, or a
            # view with its own transactions) gives the key back; a rollback takes it anyway.
            records.delete()
        return super().finalize_response(request, response, *args, **kwargs)
