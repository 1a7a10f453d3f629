"""Attaching evidence: who may add a photo where, and a received file becoming a photo.

A photo is created in one transaction with its outbox row (audits.outbox): the worker is
asked to process it only once the photo is committed, and is asked again until it has.
"""

import uuid

from django.conf import settings
from django.db import IntegrityError
from django.utils.translation import gettext as _

from audits import outbox
from audits.choices import FindingStatus, VisitStatus
from audits.errors import Conflict, ErrorCode, Forbidden, IdUnusable, Invalid, WrongState
from audits.models import Finding, Photo, PhotoPurpose, User, Visit
from audits.permissions import answers_for, inspects
from audits.photos.ingest import Received, sha_mismatch, too_large, unsupported
from audits.photos.storage import original_name, put_file
from audits.services.common import acting
from audits.visibility import visible

PROCESS_TASK = "workers.photos.process_photo"

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


def photo_attach(
    *,
    actor: User,
    photo_id: uuid.UUID,
    finding_id: uuid.UUID | None,
    visit_id: uuid.UUID | None,
    sha256: str,
    received: Received,
) -> tuple[Photo, bool]:
    """A file received whole (POST /photos) becomes a photo of the finding or visit named, if
    the actor may add it there now: (photo, created). Consumes the file, whatever happens."""
    try:
        finding, visit, purpose = target_for(actor, finding_id=finding_id, visit_id=visit_id)
    except BaseException:
        received.discard()
        raise
    return photo_ingest(
        actor=actor,
        photo_id=photo_id,
        finding=finding,
        visit=visit,
        purpose=purpose,
        sha256=sha256,
        received=received,
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
