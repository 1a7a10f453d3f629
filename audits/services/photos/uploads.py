"""Resumable uploads (POST /uploads, HEAD|PATCH|DELETE /uploads/{id}): a session per photo,
chunks appended at their offset, the last one attaching the photo (`attaching`)."""

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.errors import Conflict, ErrorCode, IdUnusable, NotFound, PayloadTooLarge, Throttled
from audits.models import Photo, PhotoUpload, User
from audits.photos.ingest import (
    Interrupted,
    Received,
    TooLarge,
    append_stream,
    hash_file,
    interrupted,
    too_large,
    unsupported,
)
from audits.photos.storage import tmp_dir
from audits.services.photos.attaching import photo_ingest, target_for
from audits.visibility import visible


def part_path(upload: PhotoUpload) -> str:
    return str(tmp_dir() / f"upload-{upload.pk}.part")


def upload_create(
    *,
    actor: User,
    upload_id: uuid.UUID,
    size: int,
    sha256: str,
    filename: str,
    finding_id: uuid.UUID | None = None,
    visit_id: uuid.UUID | None = None,
) -> tuple[PhotoUpload, bool]:
    finding, visit, _purpose = target_for(actor, finding_id=finding_id, visit_id=visit_id)
    if size > settings.PHOTO_MAX_BYTES:
        raise too_large()
    if Photo.objects.filter(pk=upload_id).exists():
        if not visible(actor, Photo).filter(pk=upload_id).exists():
            raise IdUnusable()
        raise Conflict(_("该 id 的照片已存在。"), code=ErrorCode.ID_CONFLICT)
    with transaction.atomic():
        existing = PhotoUpload.objects.select_for_update().filter(pk=upload_id).first()
        if existing is not None:
            if existing.owner_id != actor.pk:  # sessions are private: as if unseen
                raise IdUnusable()
            if (
                existing.owner_id,
                existing.size,
                existing.sha256,
                existing.finding_id,
                existing.visit_id,
            ) != (actor.pk, size, sha256.lower(), finding and finding.pk, visit.pk):
                raise Conflict(_("该 id 已被另一上传使用。"), code=ErrorCode.ID_CONFLICT)
            return existing, False
        mine = PhotoUpload.objects.select_for_update().filter(owner=actor)
        count = len(mine)
        pending = sum(u.size for u in mine)
        if (
            count >= settings.PHOTO_UPLOADS_OPEN_PER_USER
            or pending + size > settings.PHOTO_UPLOADS_BYTES_PER_USER
        ):
            wait = 3600
            raise Throttled(
                _("未完成的上传过多，请先完成或等待其过期。")
                + " "
                + _("预计 %(seconds)d 秒后可用。") % {"seconds": wait},
                wait=wait,
            )
        upload = PhotoUpload.objects.create(
            id=upload_id,
            owner=actor,
            finding=finding,
            visit=visit,
            size=size,
            sha256=sha256.lower(),
            filename=filename[:255],
        )
        open(part_path(upload), "wb").close()
    return upload, True


def upload_of(actor: User, upload_id: uuid.UUID) -> PhotoUpload:
    """The caller's own upload session; anyone else's is the same 404 as a missing one."""
    upload = PhotoUpload.objects.filter(pk=upload_id, owner=actor).first()
    if upload is None:
        raise NotFound()
    return upload


@contextmanager
def _exclusive(path: str) -> Iterator[None]:
    """One writer per upload at a time (on this machine); a second gets 409."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError as exc:
        raise NotFound() from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict(code=ErrorCode.UPLOAD_BUSY) from exc
        yield
    finally:
        os.close(fd)


def upload_discard(upload: PhotoUpload) -> None:
    path = part_path(upload)
    if os.path.exists(path):
        os.unlink(path)
    PhotoUpload.objects.filter(pk=upload.pk).delete()


def upload_append(
    *, actor: User, upload_id: uuid.UUID, offset: int, stream: BinaryIO
) -> tuple[PhotoUpload, Photo | None, bool]:
    """Write one chunk at `offset`; the last one turns the upload into a photo.

    Returns (upload, photo or None, created).
    """
    upload = upload_of(actor, upload_id)
    path = part_path(upload)
    with _exclusive(path):
        upload.refresh_from_db()
        if offset != upload.offset:
            raise Conflict(
                _("Upload-Offset 与服务器的偏移 %(offset)d 不一致。") % {"offset": upload.offset},
                code=ErrorCode.OFFSET_MISMATCH,
            )
        try:
            written = append_stream(stream, path, offset, upload.size - offset)
        except TooLarge as exc:
            raise PayloadTooLarge(code=ErrorCode.UPLOAD_TOO_LARGE) from exc
        except Interrupted as exc:
            raise interrupted() from exc
        upload.offset = offset + written
        PhotoUpload.objects.filter(pk=upload.pk).update(
            offset=upload.offset, updated_at=timezone.now()
        )
        if upload.offset >= 32 or upload.offset == upload.size:
            with open(path, "rb") as handle:
                head = handle.read(32)
            if Received("", "", 0, head).content_type is None:
                upload_discard(upload)
                raise unsupported()
        if upload.offset < upload.size:
            return upload, None, False
        return upload, *_complete(actor, upload, path)


def _complete(actor: User, upload: PhotoUpload, path: str) -> tuple[Photo, bool]:
    sha256, size, head = hash_file(path)
    received = Received(path, sha256, size, head)
    try:
        # Permission again: the team or the finding may have changed since the upload began.
        finding, visit, purpose = target_for(
            actor,
            finding_id=upload.finding_id,
            visit_id=None if upload.finding_id else upload.visit_id,
        )
        photo, created = photo_ingest(
            actor=actor,
            photo_id=upload.pk,
            finding=finding,
            visit=visit,
            purpose=purpose,
            sha256=upload.sha256,
            received=received,
        )
    finally:
        received.discard()
        PhotoUpload.objects.filter(pk=upload.pk).delete()
    return photo, created


def uploads_remove_stale(*, max_age_hours: int | None = None) -> int:
    """Unfinished uploads idle longer than the age limit, and orphaned temporary files."""
    hours = settings.PHOTO_UPLOAD_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    removed = 0
    for upload in PhotoUpload.objects.filter(updated_at__lt=cutoff):
        upload_discard(upload)
        removed += 1
    live = {f"upload-{pk}.part" for pk in PhotoUpload.objects.values_list("pk", flat=True)}
    for entry in os.scandir(tmp_dir()):
        if entry.name not in live and entry.stat().st_mtime < cutoff.timestamp():
            os.unlink(entry.path)
    return removed
