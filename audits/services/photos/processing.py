"""Processing (the worker's side): analyse the original, derive the previews, flag what the
reviewer should know, find the photos it matches; each photo gets PHOTO_MAX_ATTEMPTS tries."""

import os
import random
import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audits import outbox
from audits.geo import metres_between
from audits.models import Photo, PhotoStatus
from audits.photos import processing as analysis
from audits.photos.storage import derived_name, local_path, new_tmp_file, put_file
from audits.trail import context

MATCHES_KEPT = 100  # a picture reused a thousand times need not list them all


class Transient(Exception):
    """Worth another try later (storage or database unavailable)."""


def _begin_attempt(photo_id: uuid.UUID | str) -> Photo | None:
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
        photo_reject(photo_id, f"failed: {type(error).__name__}: {error}")
        return None
    return min(300, 2**attempts) + random.uniform(0, 1)  # noqa: S311 - jitter


def _reject(photo: Photo, reason: str) -> None:
    photo.status, photo.reason = PhotoStatus.REJECTED, reason[:200]
    photo.processed_at = timezone.now()
    photo.save(update_fields=["status", "reason", "processed_at"])


def photo_reject(photo_id: uuid.UUID | str, reason: str) -> None:
    with transaction.atomic(), context.action("photo.process"):
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is not None and photo.status == PhotoStatus.PENDING:
            _reject(photo, reason)


def photo_process(photo_id: uuid.UUID | str, outbox_id: int | None = None) -> str:
    """Process one photo; idempotent. Returns its status. Raises Transient to be retried (the
    task asks `photo_process_failed` whether, and when)."""
    photo = _begin_attempt(photo_id)
    if photo is None:
        outbox.mark_done(outbox_id)
        status = Photo.objects.filter(pk=photo_id).values_list("status", flat=True).first()
        return status or "missing"
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
            result = analysis.analyse(source, photo.content_type)
        except analysis.Unusable as exc:
            with transaction.atomic(), context.action("photo.process"):
                photo_reject(photo.pk, exc.code)
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


def _finish(photo: Photo, result: analysis.Analysis, thumbnail: str, preview: str) -> None:
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
    see (audits.selectors.photos.for_reader)."""
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
    if analysis.informative(photo.phash):
        near = RawSQL("bit_count((phash # %s)::bit(64))", (photo.phash,))
        others = others.annotate(distance=near)
        alike |= Q(phash__isnull=False, distance__lte=settings.PHOTO_REUSE_HAMMING)
    return list(
        others.filter(alike)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:MATCHES_KEPT]
    )
