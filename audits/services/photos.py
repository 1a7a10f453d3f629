"""Photo evidence: attach an upload as a photo, resumable upload sessions, processing.

A photo is created in one transaction with its outbox row (audits.outbox): the worker
is asked to process it only once the photo is committed, and is asked again until it has.
"""

import fcntl
import logging
import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import outbox
from audits.choices import FindingStatus, VisitStatus
from audits.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    Forbidden,
    IdUnusable,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Throttled,
    Unprocessable,
    UnsupportedType,
    WrongState,
)
from audits.geo import metres_between
from audits.models import Finding, Photo, PhotoPurpose, PhotoStatus, PhotoUpload, User, Visit
from audits.permissions import answers_for, inspects
from audits.photos import processing
from audits.photos.ingest import Interrupted, Received, TooLarge, append_stream, hash_file
from audits.photos.storage import (
    derived_name,
    local_path,
    new_tmp_file,
    original_name,
    put_file,
    tmp_dir,
)
from audits.services.common import acting
from audits.trail import context
from audits.visibility import visible

log = logging.getLogger(__name__)
PROCESS_TASK = "workers.photos.process_photo"
MATCHES_KEPT = 100  # a picture reused a thousand times need not list them all


def unsupported() -> UnsupportedType:
    return UnsupportedType(_("只接受 JPEG、PNG 或 HEIC 图片。"))


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("照片过大：上限 %(limit)d 字节。") % {"limit": settings.PHOTO_MAX_BYTES},
        code=ErrorCode.PHOTO_TOO_LARGE,
    )


def interrupted() -> DomainError:
    # The client went away mid-body: nobody may read this answer, but nothing is kept.
    return DomainError(code=ErrorCode.BODY_INCOMPLETE)


def sha_mismatch() -> Unprocessable:
    return Unprocessable(code=ErrorCode.SHA256_MISMATCH)


# --- who may attach evidence where ---------------------------------------------------------


# Who may add photos, and until when (docs/PHOTOS.md, "Who may add photos"):
# - the visit's team, as evidence: to the visit while it is planned, in progress or submitted
#   (phones that were offline upload late), to a finding while the visit is in progress or
#   submitted and the finding not yet reviewed (draft or submitted); not once the visit is
#   closed: the planner reviewed and published what was there;
# - the responsible unit's official, as rectification evidence: to a finding published or
#   returned to them; not while a rectification awaits review, nor once it is verified;
# - nobody else (planners and leaders review, auditors read).
TEAM_VISIT_STATES = (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS, VisitStatus.SUBMITTED)
TEAM_FINDING_STATES = (FindingStatus.DRAFT, FindingStatus.SUBMITTED)
UNIT_FINDING_STATES = (FindingStatus.PUBLISHED, FindingStatus.RETURNED)


def _closed_to_photos() -> WrongState:
    return WrongState(code=ErrorCode.PHOTOS_CLOSED)


def target_for(
    actor: User, *, finding_id: uuid.UUID | None = None, visit_id: uuid.UUID | None = None
) -> tuple[Finding | None, Visit, str]:
    """The finding (or None) and visit a photo would hang off, and its purpose, if the actor
    may add it now.

    Unseen or missing: 400 on the field (as every reference in a body); seen but not
    theirs to document: 403; theirs, but not in this state: 409 `photos_closed`.
    """
    if (finding_id is None) == (visit_id is None):
        raise Invalid({"finding": [_("须给出 finding 或 visit 之一。")]})
    if finding_id is not None:
        finding = (
            visible(actor, Finding)
            .select_related("visit__team", "visit__target")
            .filter(pk=finding_id)
            .first()
        )
        if finding is None:
            raise Invalid({"finding": [_("不存在或不可见。")]})
        visit = finding.visit
        if inspects(actor, visit) and visit.status != VisitStatus.CANCELLED:
            if visit.status not in TEAM_VISIT_STATES or finding.status not in TEAM_FINDING_STATES:
                raise _closed_to_photos()
            return finding, visit, PhotoPurpose.EVIDENCE
        if answers_for(actor, finding):
            if finding.status not in UNIT_FINDING_STATES:
                raise _closed_to_photos()
            return finding, visit, PhotoPurpose.RECTIFICATION
        raise Forbidden(_("无权为该问题添加照片。"))
    visit = visible(actor, Visit).select_related("team", "target").filter(pk=visit_id).first()
    if visit is None:
        raise Invalid({"visit": [_("不存在或不可见。")]})
    if not inspects(actor, visit) or visit.status == VisitStatus.CANCELLED:
        raise Forbidden(_("无权为该检查添加照片。"))
    if visit.status not in TEAM_VISIT_STATES:
        raise _closed_to_photos()
    return None, visit, PhotoPurpose.EVIDENCE


# --- a complete file becomes a photo -------------------------------------------------------


def _repeat(
    actor: User, photo_id: uuid.UUID, sha256: str, finding: Finding | None, visit: Visit
) -> Photo | None:
    """An earlier photo with this id: the same one (returned) or a 409; one the actor may
    not see is IdUnusable, the answer a malformed id gets."""
    existing = Photo.objects.filter(pk=photo_id).first()
    if existing is None:
        return None
    if not visible(actor, Photo).filter(pk=photo_id).exists():
        raise IdUnusable()
    same = (
        existing.sha256 == sha256
        and existing.finding_id == (finding and finding.pk)
        and existing.visit_id == visit.pk
    )
    if not same:
        raise Conflict(_("该 id 已被另一张照片使用。"), code=ErrorCode.ID_CONFLICT)
    return existing


def photo_ingest(
    *,
    actor: User,
    photo_id: uuid.UUID,
    finding: Finding | None,
    visit: Visit,
    purpose: str = PhotoPurpose.EVIDENCE,
    sha256: str,
    received: Received,
) -> tuple[Photo, bool]:
    """Check a received file and make it a photo: (photo, created). Consumes the file."""
    try:
        if received.sha256 != sha256.lower():
            raise sha_mismatch()
        if received.size > settings.PHOTO_MAX_BYTES:
            raise too_large()
        content_type = received.content_type
        if content_type is None:
            raise unsupported()
        if (existing := _repeat(actor, photo_id, received.sha256, finding, visit)) is not None:
            return existing, False
        # Stored before the row exists: a row never points at a missing file. The name is
        # the content's hash, so a repeat or a race stores nothing twice.
        name = put_file(original_name(received.sha256), received.path)
    finally:
        received.discard()
    try:
        with acting(actor, "photo.upload"):
            photo = Photo.objects.create(
                id=photo_id,
                finding=finding,
                visit=visit,
                uploaded_by=actor,
                purpose=purpose,
                sha256=received.sha256,
                size=received.size,
                content_type=content_type,
                original=name,
            )
            outbox.enqueue(PROCESS_TASK, photo_id=str(photo.pk))
    except IntegrityError:
        existing = _repeat(actor, photo_id, received.sha256, finding, visit)
        if existing is None:
            raise
        return existing, False
    return photo, True


# --- resumable uploads ---------------------------------------------------------------------


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


def remove_stale_uploads(*, max_age_hours: int | None = None) -> int:
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


# --- processing (the worker) ---------------------------------------------------------------


class Transient(Exception):
    """Worth another try later (storage or database unavailable)."""


def _test_delay() -> None:
    # Tests only (tests/faults): make processing slow enough to kill a worker in the middle.
    delay = os.environ.get("DUCHAA_TEST_PHOTO_DELAY")
    if delay:
        time.sleep(float(delay))


def begin_attempt(photo_id: uuid.UUID | str) -> Photo | None:
    """Count an attempt (committed at once, so a killed worker's attempt counts too).

    None when there is nothing (more) to do: already processed, or out of attempts.
    """
    with transaction.atomic(), context.action("photo.process"):
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None or photo.status != PhotoStatus.PENDING:
            return None
        if _spent(photo.attempts):
            _reject(photo, "too_many_attempts")
            return None
        photo.attempts += 1
        photo.save(update_fields=["attempts"])
    return photo


def _spent(attempts: int) -> bool:
    """The one rule on attempts: PHOTO_MAX_ATTEMPTS, a killed worker's included."""
    return attempts >= settings.PHOTO_MAX_ATTEMPTS


def photo_process_failed(*, photo_id: uuid.UUID | str, error: BaseException) -> float | None:
    """A try at processing failed for a reason that may pass (storage, database, a time
    limit): the seconds to wait before the next try (exponential, with jitter), or None
    when the photo has had its attempts and is now rejected with the error as its reason."""
    attempts = Photo.objects.filter(pk=photo_id).values_list("attempts", flat=True).first()
    if attempts is None or _spent(attempts):
        reject(photo_id, f"failed: {type(error).__name__}: {error}")
        return None
    return min(300, 2**attempts) + random.uniform(0, 1)  # noqa: S311 - jitter


def _reject(photo: Photo, reason: str) -> None:
    photo.status, photo.reason = PhotoStatus.REJECTED, reason[:200]
    photo.processed_at = timezone.now()
    photo.save(update_fields=["status", "reason", "processed_at"])


def reject(photo_id: uuid.UUID | str, reason: str) -> None:
    with transaction.atomic(), context.action("photo.process"):
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is not None and photo.status == PhotoStatus.PENDING:
            _reject(photo, reason)


def process(photo_id: uuid.UUID | str, outbox_id: int | None = None) -> str:
    """Process one photo; idempotent. Returns its status. Raises Transient to be retried."""
    photo = begin_attempt(photo_id)
    if photo is None:
        outbox.mark_done(outbox_id)
        status = Photo.objects.filter(pk=photo_id).values_list("status", flat=True).first()
        return status or "missing"
    _test_delay()
    source = local_path(photo.original)
    fetched = None
    try:
        if source is None:  # an object store: fetch a local copy first
            fd, fetched = new_tmp_file()
            with os.fdopen(fd, "wb") as out, default_storage.open(photo.original) as src:
                for chunk in src.chunks():
                    out.write(chunk)
            source = fetched
        elif not os.path.exists(source):
            raise Transient(f"original {photo.original} not found")
        try:
            result = processing.analyse(source, photo.content_type)
        except processing.Unusable as exc:
            with transaction.atomic(), context.action("photo.process"):
                reject(photo.pk, exc.code)
                outbox.mark_done(outbox_id)
            return PhotoStatus.REJECTED
    except OSError as exc:
        raise Transient(str(exc)) from exc
    finally:
        if fetched and os.path.exists(fetched):
            os.unlink(fetched)
    try:
        thumbnail = put_file(derived_name(photo.sha256, "thumb"), result.thumbnail_path)
        preview = put_file(derived_name(photo.sha256, "preview"), result.preview_path)
    except OSError as exc:
        raise Transient(str(exc)) from exc
    finally:
        result.discard()
    with transaction.atomic(), context.action("photo.process"):
        photo = (
            Photo.objects.select_for_update(of=("self",))
            .select_related("visit__target")
            .get(pk=photo_id)
        )
        if photo.status == PhotoStatus.PENDING:
            _finish(photo, result, thumbnail, preview)
        outbox.mark_done(outbox_id)
    return photo.status


def _finish(photo: Photo, result: processing.Analysis, thumbnail: str, preview: str) -> None:
    visit, target = photo.visit, photo.visit.target
    photo.width, photo.height = result.width, result.height
    photo.orientation, photo.taken_at = result.orientation, result.taken_at
    photo.lat, photo.lon = result.lat, result.lon
    photo.make, photo.model, photo.phash = result.make, result.model, result.phash
    photo.thumbnail, photo.preview = thumbnail, preview
    flags = []
    if not result.has_exif:
        flags.append("no_exif")
    photo.distance_m = None
    if result.lat is None or result.lon is None:
        flags.append("gps_missing")
    elif target.lat is not None and target.lon is not None:
        photo.distance_m = round(
            metres_between(result.lat, result.lon, float(target.lat), float(target.lon)), 1
        )
        if photo.distance_m > settings.PHOTO_FAR_METRES:
            flags.append("far_from_target")
    if result.taken_at is not None and not (
        visit.window_start <= result.taken_at <= visit.window_end
    ):
        flags.append("outside_visit_window")
    photo.matches = _matches(photo)
    photo.flags = flags + result.extra_flags
    photo.status, photo.processed_at = PhotoStatus.READY, timezone.now()
    photo.save()


def _matches(photo: Photo) -> list[uuid.UUID]:
    """Earlier photos elsewhere with the same or a near-identical picture (the first
    MATCHES_KEPT of them), whoever may see them: readers are told only of those they may
    see (audits.selectors.photos.with_reuse)."""
    if photo.finding_id:
        same_place = Q(finding_id=photo.finding_id) | Q(
            visit_id=photo.visit_id, finding__isnull=True
        )
    else:
        same_place = Q(visit_id=photo.visit_id)
    others = (
        Photo.objects.exclude(pk=photo.pk)
        .exclude(same_place)
        .exclude(status=PhotoStatus.REJECTED)
        .filter(created_at__lte=photo.created_at)
    )
    alike = Q(sha256=photo.sha256)
    if processing.informative(photo.phash):
        near = RawSQL("bit_count((phash # %s)::bit(64))", (photo.phash,))
        others = others.annotate(distance=near)
        alike |= Q(phash__isnull=False, distance__lte=settings.PHOTO_REUSE_HAMMING)
    return list(
        others.filter(alike)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:MATCHES_KEPT]
    )


def attached_photos(finding: Finding, ids: list[uuid.UUID], actor: User) -> list[uuid.UUID]:
    """Photo ids cited by a rectification: each one the actor uploaded for it, that is, of
    this finding, after its publication, and not cited by an earlier rectification. The
    team's evidence, a colleague's photo or spent proof is not evidence of this report."""
    wanted = set(ids)
    spent = {pk for report in finding.rectifications.all() for pk in report.photo_ids}
    cited = visible(actor, Photo).filter(
        pk__in=wanted - spent,
        finding=finding,
        uploaded_by=actor,
        purpose=PhotoPurpose.RECTIFICATION,
    )
    if finding.published_at is not None:
        cited = cited.filter(created_at__gte=finding.published_at)
    found = set(cited.values_list("pk", flat=True))
    if found != wanted:
        raise Invalid(
            {"photos": [_("整改证明须是本人为本次整改在通报后上传、且未被此前整改引用的照片。")]}
        )
    return list(ids)
