"""The bulletin lifecycle: compiling → draft (or failed) → issued → delivered, acknowledged.

A planner asks for a bulletin (`bulletin_request`); a worker compiles it
(`bulletin_compile`): it selects what the planner may see into a snapshot
(audits/selectors/bulletins.py, `contents`), builds the renderer's document from it, renders
the PDF and stores it (the draft is then ready), then the DOCX. Planners edit a draft's
title, requirements and added recipients (`bulletin_update`, If-Match), which renders it
again from the same snapshot; `bulletin_recompile` selects afresh (and retries a failed
compile). `bulletin_issue` numbers it, renders it with the number and the audit trail's
signed head, freezes the PDF's SHA-256 and queues delivery; the database refuses any later
change (migration 0011). Delivery (`bulletin_deliver`) is a notice in the app and an e-mail
with the PDF (`mail_attachments`); `bulletin_acknowledge` is the recipient's; the tracker
(`bulletins_remind`) reminds the others; the scheduler (`bulletins_generate`) makes the
campaign and monthly drafts, each once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from audits import clock, outbox
from audits.choices import Level, Role
from audits.errors import ErrorCode, Forbidden, Invalid, Message, NotFound, WrongState
from audits.models import (
    Bulletin,
    BulletinRecipient,
    BulletinStatus,
    Campaign,
    Notification,
    RecipientKind,
    RecipientSource,
    Unit,
    User,
)
from audits.permissions import issues, reports_on
from audits.photos.storage import new_tmp_file, put_file
from audits.rendering import document as d
from audits.rendering.content import period_text
from audits.selectors import bulletins as reads
from audits.services.common import acting, bump, check_version
from audits.services.mail import Attachment
from audits.services.notifications import notify
from audits.trail import context
from audits.trail.seal import current_head, head_at, seal
from audits.visibility import visible

log = logging.getLogger(__name__)

COMPILE_TASK = "workers.bulletins.compile_bulletin"
DELIVER_TASK = "workers.bulletins.deliver_bulletin"
DOCX_TASK = "workers.bulletins.render_issued_docx"
# Bulletins are documents in Chinese, whatever language the person asking reads.
DOCUMENT_LANGUAGE = "zh-hans"
# The requirements section: long enough for any real one (20,000 characters print as 37
# pages), short of what would turn a compile into a denial of service.
MAX_REQUIREMENTS = 20_000
MAX_PERIOD_DAYS = 366
# Scheduled drafts: campaigns that ended in the last month (not every campaign ever, when
# the scheduler first runs on old data).
CAMPAIGN_LOOKBACK = timedelta(days=31)

ISSUED_KIND = "bulletin.issued"
REMINDER_KIND = "bulletin.reminder"


class BulletinBusy(WrongState):
    code = ErrorCode.BULLETIN_BUSY


class AlreadyIssued(WrongState):
    code = ErrorCode.ALREADY_ISSUED


# --- helpers -------------------------------------------------------------------------------


@contextmanager
def _job(verb: str) -> Iterator[None]:
    """A transaction of the worker or scheduler (the task names the actor), doing `verb`."""
    with transaction.atomic(), context.action(verb):
        yield


def _bulletin(actor: User, bulletin_id: uuid.UUID) -> Bulletin:
    """The bulletin locked for change, 404 when unseen; 409 when another request holds it
    (a planner saving or issuing it this moment): refused at once, not queued behind."""
    qs = visible(actor, Bulletin).select_related("issuer", "unit", "campaign", "corrects")
    try:
        with transaction.atomic():
            row = qs.select_for_update(nowait=True, of=("self",)).filter(pk=bulletin_id).first()
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            raise BulletinBusy() from exc
        raise
    if row is None:
        raise NotFound()
    return row


def _may_change(actor: User, bulletin: Bulletin) -> None:
    if not issues(actor, bulletin):
        raise Forbidden(_("只有印发单位的组织部门可以修改和印发通报。"))
    if bulletin.status == BulletinStatus.ISSUED:
        raise AlreadyIssued()


def _period(start: date, end: date, today: date) -> None:
    """Refuse a period that ends before it starts, after today, or lasts over 366 days; a
    rule of the two dates together names them both."""

    def refuse(code: ErrorCode, message: Message, *fields: str) -> Invalid:
        return Invalid({field: [message] for field in fields}, code=code)

    both = ("period_start", "period_end")
    if end < start:
        raise refuse(ErrorCode.PERIOD_REVERSED, _("截止日期不能早于起始日期。"), *both)
    if end > today:
        late = _("通报期间不能晚于今天（%(day)s）。") % {"day": today.isoformat()}
        fields = both if start > today else ("period_end",)
        raise refuse(ErrorCode.PERIOD_IN_FUTURE, late, *fields)
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        long = _("通报期间不能超过 %(days)d 天。") % {"days": MAX_PERIOD_DAYS}
        raise refuse(ErrorCode.PERIOD_TOO_LONG, long, *both)


def _requirements(text: str) -> str:
    if len(text) > MAX_REQUIREMENTS:
        raise Invalid(
            {
                "requirements": [
                    _("工作要求不能超过 %(n)d 个字符（现有 %(have)d 个）。")
                    % {"n": MAX_REQUIREMENTS, "have": len(text)}
                ]
            },
            code=ErrorCode.MAX_LENGTH,
        )
    return text.replace("\r\n", "\n").strip()


def _period_phrase(start: date, end: date) -> str:
    """2015年, 2015年上半年, 2015年6月, or the days."""
    whole_month = (
        start.day == 1
        and start.year == end.year
        and start.month == end.month
        and (end + timedelta(days=1)).day == 1
    )
    if start.year == end.year and (start.month, start.day) == (1, 1):
        if (end.month, end.day) == (12, 31):
            return f"{start.year}年"
        if (end.month, end.day) == (6, 30):
            return f"{start.year}年上半年"
    if start.year == end.year and (start.month, start.day, end.month, end.day) == (7, 1, 12, 31):
        return f"{start.year}年下半年"
    if whole_month:
        return f"{start.year}年{start.month}月"
    return period_text(start, end)


def default_title(*, scope: Unit, start: date, end: date, campaign: Campaign | None = None) -> str:
    """关于2015年上半年宿州市基层党建工作暗访督查情况的通报, or after a campaign's title."""
    if campaign is not None:
        title = f"关于“{campaign.title}”督查情况的通报"
    else:
        title = f"关于{_period_phrase(start, end)}{scope.name}基层党建工作暗访督查情况的通报"
    return title[:200]


def _enqueue_compile(bulletin: Bulletin) -> None:
    outbox.enqueue(COMPILE_TASK, bulletin_id=str(bulletin.pk))


def _restart(bulletin: Bulletin, *fields: str) -> None:
    """Back to compiling: any compile still running for it will drop its work."""
    bulletin.status = BulletinStatus.COMPILING
    bulletin.stage, bulletin.percent, bulletin.error = "queued", 0, ""
    bulletin.attempts = F("attempts") + 1
    bump(bulletin, *fields, "status", "stage", "percent", "error", "attempts")
    bulletin.refresh_from_db(fields=["attempts"])
    _enqueue_compile(bulletin)


def _set_addressees(planner: User, bulletin: Bulletin, on: date) -> None:
    """Leadership by position and role on day `on`, replacing the previous list of them;
    the people a planner added stay (unless now leadership themselves)."""
    with translation.override(DOCUMENT_LANGUAGE):
        found = reads.addressees(planner, issuer=bulletin.issuer, scope=bulletin.unit, on=on)
    chosen = {a.user.pk: a for a in found}
    rows = BulletinRecipient.objects.filter(bulletin=bulletin)
    rows.exclude(source=RecipientSource.ADDED).exclude(user_id__in=chosen).delete()
    rows.filter(source=RecipientSource.ADDED, user_id__in=chosen).delete()
    existing = {r.user_id: r for r in rows.exclude(source=RecipientSource.ADDED)}
    for pk, a in chosen.items():
        row = existing.get(pk)
        if row is None:
            BulletinRecipient.objects.create(
                bulletin=bulletin, user=a.user, kind=a.kind, source=a.source, label=a.label
            )
        elif (row.kind, row.source, row.label) != (a.kind, a.source, a.label):
            row.kind, row.source, row.label = a.kind, a.source, a.label
            row.save(update_fields=["kind", "source", "label"])


def _set_added(planner: User, bulletin: Bulletin, users: list[User]) -> None:
    """The people the planner adds (抄送), replacing those added before."""
    allowed = set(reads.may_be_added(planner).filter(pk__in=[u.pk for u in users]))
    refused = [u.pk for u in users if u not in allowed]
    if refused:
        raise Invalid({"recipients": [_("无法添加这些用户：%(ids)s") % {"ids": refused}]})
    rows = BulletinRecipient.objects.filter(bulletin=bulletin)
    taken = set(rows.exclude(source=RecipientSource.ADDED).values_list("user_id", flat=True))
    wanted = {u.pk: u for u in allowed if u.pk not in taken}
    rows.filter(source=RecipientSource.ADDED).exclude(user_id__in=wanted).delete()
    have = set(rows.filter(source=RecipientSource.ADDED).values_list("user_id", flat=True))
    with translation.override(DOCUMENT_LANGUAGE):
        BulletinRecipient.objects.bulk_create(
            [
                BulletinRecipient(
                    bulletin=bulletin,
                    user=user,
                    kind=RecipientKind.COPY,
                    source=RecipientSource.ADDED,
                    label=reads.person_label(user),
                )
                for pk, user in sorted(wanted.items())
                if pk not in have
            ]
        )


# --- requesting and editing ----------------------------------------------------------------


def bulletin_request(
    *,
    actor: User,
    unit: Unit | None,
    period_start: date | None = None,
    period_end: date | None = None,
    campaign: Campaign | None = None,
    corrects: Bulletin | None = None,
    title: str = "",
    requirements: str = "",
) -> Bulletin:
    """A planner asks for a bulletin about `unit` (and below) for a period, or a campaign,
    or one correcting an issued bulletin; a worker compiles it. Issued by the planner's
    home unit's organisation department."""
    if not actor.has_role(Role.PLANNER) or actor.unit_id is None:
        raise Forbidden(_("只有组织部门可以编发通报。"))
    requirements = _requirements(requirements)
    if corrects is not None:
        if corrects.status != BulletinStatus.ISSUED:
            raise Invalid({"corrects": [_("只能更正已印发的通报。")]}, code=ErrorCode.NOT_ISSUED)
        if not issues(actor, corrects):
            raise Invalid(
                {"corrects": [_("只能更正本单位或下级单位印发的通报。")]},
                code=ErrorCode.UNIT_OUTSIDE_JURISDICTION,
            )
        unit = unit or corrects.unit
        campaign = campaign or corrects.campaign
        period_start = period_start or corrects.period_start
        period_end = period_end or corrects.period_end
        title = title or corrects.title
        requirements = requirements or corrects.requirements
    if campaign is not None:
        unit = unit or campaign.unit
        period_start = period_start or campaign.starts_on
        period_end = period_end or min(campaign.ends_on, clock.today())
    if unit is None or period_start is None or period_end is None:
        given = {"unit": unit, "period_start": period_start, "period_end": period_end}
        required: list[Message] = [_("该字段是必填项。")]
        raise Invalid({name: required for name, value in given.items() if value is None})
    if not reports_on(actor, unit):
        raise Invalid(
            {"unit": [_("该单位不在您的管辖范围内。")]}, code=ErrorCode.UNIT_OUTSIDE_JURISDICTION
        )
    today = clock.today()
    _period(period_start, period_end, today)
    with acting(actor, "bulletin.request"):
        bulletin = Bulletin.objects.create(
            issuer_id=actor.unit_id,
            unit=unit,
            campaign=campaign,
            period_start=period_start,
            period_end=period_end,
            title=(
                title
                or default_title(scope=unit, start=period_start, end=period_end, campaign=campaign)
            )[:200],
            requirements=requirements,
            corrects=corrects,
            requested_by=actor,
            stage="queued",
        )
        _set_addressees(actor, bulletin, today)
        _enqueue_compile(bulletin)
    return bulletin


def bulletin_update(
    *,
    actor: User,
    bulletin_id: uuid.UUID,
    if_match: str | None,
    title: str | None = None,
    requirements: str | None = None,
    added: list[User] | None = None,
) -> Bulletin:
    """A planner edits a draft (If-Match: the version they edited): its title, its
    requirements (工作要求) or the people they add to its distribution. The draft is
    rendered again from its snapshot."""
    if requirements is not None:
        requirements = _requirements(requirements)
    with acting(actor, "bulletin.update"):
        bulletin = _bulletin(actor, bulletin_id)
        _may_change(actor, bulletin)
        check_version(bulletin, if_match)
        fields = []
        if title is not None and title != bulletin.title:
            bulletin.title = title
            fields.append("title")
        if requirements is not None and requirements != bulletin.requirements:
            bulletin.requirements = requirements
            fields.append("requirements")
        before = set(bulletin.recipients.values_list("user_id", "source"))
        if added is not None:
            _set_added(actor, bulletin, added)
        after = set(bulletin.recipients.values_list("user_id", "source"))
        if fields or before != after:
            _restart(bulletin, *fields)
    return bulletin


def bulletin_recompile(
    *, actor: User, bulletin_id: uuid.UUID, if_match: str | None = None
) -> Bulletin:
    """Compile a draft again from the records as they are now; retries a failed compile."""
    with acting(actor, "bulletin.recompile"):
        bulletin = _bulletin(actor, bulletin_id)
        _may_change(actor, bulletin)
        if if_match:
            check_version(bulletin, if_match)
        bulletin.content = None
        _set_addressees(actor, bulletin, clock.today())
        _restart(bulletin, "content")
    return bulletin


# --- compiling (the worker) ----------------------------------------------------------------


def _read_file(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _store(bulletin: Bulletin, data: bytes, extension: str) -> tuple[str, str]:
    """Write-once under the content's hash: (storage name, SHA-256 hex)."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"bulletins/{bulletin.pk}/{digest}.{extension}"
    fd, path = new_tmp_file(suffix=f".{extension}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    put_file(name, path)
    return name, digest


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def document(
    bulletin: Bulletin,
    content: dict,
    *,
    issued_on: date,
    head: d.SealedHead | None = None,
) -> d.BulletinDocument:
    """The renderer's document: the snapshot, the bulletin's own text and distribution, the
    photos' stored previews (never the originals), and for an issued one its number."""
    recipients = list(bulletin.recipients.order_by("kind", "label", "id"))

    def counts(rows: list) -> tuple[d.Count, ...]:
        return tuple(d.Count(label, n) for label, n in rows)

    cases = tuple(
        d.Case(
            title=c["title"],
            unit=c["unit"],
            county=c["county"],
            category=c["category"],
            severity=c["severity"],
            description=c["description"],
            observed_on=date.fromisoformat(c["observed_on"]),
            responsible=tuple(c["responsible"]),
            deadline=_day(c["deadline"]),
            status=c["status"],
            photos=tuple(d.Photo(_read_file(p["preview"]), p["caption"]) for p in c["photos"]),
        )
        for c in content["cases"]
    )
    o, r = content["overview"], content["rectification"]
    return d.BulletinDocument(
        issuing_body=content["issuing_body"],
        heading=bulletin.title,
        issued_on=issued_on,
        period_start=bulletin.period_start,
        period_end=bulletin.period_end,
        year=bulletin.year,
        number=bulletin.number,
        scope=content["scope"],
        corrects=bulletin.corrects.issue_label if bulletin.corrects is not None else None,
        overview=d.Overview(
            inspection_rounds=o["inspection_rounds"],
            visits_done=o["visits_done"],
            units_covered=o["units_covered"],
            findings_total=o["findings_total"],
            findings_by_severity=counts(o["findings_by_severity"]),
            officials_interviewed=o["officials_interviewed"],
            adjustments=o["adjustments"],
        ),
        by_county=counts(content["by_county"]),
        by_category=counts(content["by_category"]),
        cases=cases,
        interviews=tuple(
            d.Interview(**{**i, "held_on": date.fromisoformat(i["held_on"])})
            for i in content["interviews"]
        ),
        adjustments=tuple(
            d.Adjustment(**{**a, "effective_on": date.fromisoformat(a["effective_on"])})
            for a in content["adjustments"]
        ),
        rectification=d.Rectification(
            verified=r["verified"],
            on_time=r["on_time"],
            overdue=r["overdue"],
            overdue_items=tuple(
                d.OverdueItem(**{**item, "deadline": date.fromisoformat(item["deadline"])})
                for item in r["overdue_items"]
            ),
        ),
        requirements=bulletin.requirements,
        distribution=d.Distribution(
            main_to=tuple(x.label for x in recipients if x.kind == RecipientKind.MAIN),
            copy_to=tuple(x.label for x in recipients if x.kind == RecipientKind.COPY),
        ),
        head=head,
    )


def estimated_pages(content: dict, requirements: str = "") -> int:
    """About how many pages the PDF will have (for the progress bar): measured 28 for 200
    findings with 20 cases, 40 photos and 67 overdue rows; 77 for 1,000 (50, 100, 333)."""
    cases = content["cases"]
    photos = sum(len(c["photos"]) for c in cases)
    overdue = len(content["rectification"]["overdue_items"])
    return max(2, 3 + len(cases) // 2 + photos // 3 + overdue // 14 + len(requirements) // 600)


class _Progress:
    """Writes stage and percentage on the row as the compile goes, a few times a stage."""

    def __init__(self, bulletin_id: uuid.UUID | str, attempt: int) -> None:
        self.bulletin_id, self.attempt = bulletin_id, attempt
        self.stage, self.percent = "", -100

    def __call__(self, stage: str, percent: int) -> None:
        percent = max(0, min(99, int(percent)))
        if stage == self.stage and percent < self.percent + 5:
            return
        self.stage, self.percent = stage, percent
        with _job("bulletin.progress"):
            Bulletin.objects.filter(
                pk=self.bulletin_id, attempts=self.attempt, status=BulletinStatus.COMPILING
            ).update(stage=stage, percent=percent)

    def pdf(self, first: int, last: int, pages: int) -> Callable[[str, int], None]:
        """For `render_pdf(progress=…)`: from `first` to `last` percent as pages are laid."""

        def report(step: str, done: int) -> None:
            share = min(done / pages, 1.0) if step == "layout" else (1.0 if step == "write" else 0)
            self("rendering", round(first + (last - first) * share))

        return report


def _begin(bulletin_id: uuid.UUID | str) -> int | None:
    """Claim the compile: the attempt number, or None when there is nothing to compile."""
    with _job("bulletin.compile"):
        bulletin = Bulletin.objects.select_for_update().filter(pk=bulletin_id).first()
        if bulletin is None or bulletin.status != BulletinStatus.COMPILING:
            return None
        bulletin.attempts += 1
        bulletin.stage, bulletin.percent = "started", 1
        bulletin.save(update_fields=["attempts", "stage", "percent"])
        return bulletin.attempts


def _select(bulletin: Bulletin) -> dict:
    """The snapshot, read in one consistent view of the database, in the document's words."""
    outer = connection.in_atomic_block
    with transaction.atomic(), translation.override(DOCUMENT_LANGUAGE):
        if not outer:  # in a test's transaction the figures are consistent anyway
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        planner = bulletin.requested_by
        if planner is None:
            raise WrongState(_("通报没有经办人，无法生成。"))
        return reads.contents(
            planner,
            scope=bulletin.unit,
            issuer=bulletin.issuer,
            start=bulletin.period_start,
            end=bulletin.period_end,
            campaign=bulletin.campaign,
            today=clock.today(),
        )


def _planners_told(bulletin: Bulletin) -> list[User]:
    """Who hears that a draft is ready: its requester, and for a scheduled one every planner
    of the issuing unit."""
    people: list[User] = [bulletin.requested_by] if bulletin.requested_by is not None else []
    if bulletin.auto_key:
        people += list(
            User.objects.filter(
                unit_id=bulletin.issuer_id, roles__contains=[Role.PLANNER], is_active=True
            )
        )
    return people


def _finish(
    bulletin_id: uuid.UUID | str,
    attempt: int,
    content: dict,
    pdf: tuple[str, str],
    selected: bool,
) -> bool:
    with _job("bulletin.compile"):
        bulletin = (
            Bulletin.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .get(pk=bulletin_id)
        )
        if bulletin.status != BulletinStatus.COMPILING or bulletin.attempts != attempt:
            return False
        old = {bulletin.pdf, bulletin.docx} - {"", pdf[0]}
        bulletin.status = BulletinStatus.DRAFT
        bulletin.stage, bulletin.percent, bulletin.error = "done", 100, ""
        bulletin.content = content
        bulletin.pdf, bulletin.sha256 = pdf
        bulletin.docx = bulletin.docx_sha256 = ""
        fields = ["status", "stage", "percent", "error", "content", "pdf", "sha256", "docx"]
        fields.append("docx_sha256")
        if selected:
            bulletin.compiled_at = clock.now()
            fields.append("compiled_at")
        bulletin.save(update_fields=fields)
        if selected:
            with translation.override(settings.LANGUAGE_CODE):
                notify(
                    recipients=_planners_told(bulletin),
                    kind="bulletin.ready",
                    text=_("通报草稿已生成：《%(title)s》，请审核后印发。")
                    % {"title": bulletin.title},
                    about=bulletin,
                    dedupe_key=f"bulletin:{bulletin.pk}:ready:{attempt}",
                )
        transaction.on_commit(lambda: _forget(old))
    return True


def _forget(names: set[str]) -> None:
    """Files of a draft that a later render replaced."""
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("bulletin file %s could not be removed", name)


def _fail(bulletin_id: uuid.UUID | str, attempt: int, error: BaseException) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    with _job("bulletin.compile"):
        bulletin = (
            Bulletin.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .get(pk=bulletin_id)
        )
        if bulletin.status != BulletinStatus.COMPILING or bulletin.attempts != attempt:
            return
        bulletin.status, bulletin.error = BulletinStatus.FAILED, text
        bulletin.save(update_fields=["status", "error"])
        with translation.override(settings.LANGUAGE_CODE):
            notify(
                recipients=_planners_told(bulletin),
                kind="bulletin.failed",
                text=_("通报生成失败：《%(title)s》，可重新生成。") % {"title": bulletin.title},
                about=bulletin,
                dedupe_key=f"bulletin:{bulletin.pk}:failed:{attempt}",
            )


def bulletin_compile(*, bulletin_id: uuid.UUID | str, outbox_id: int | None = None) -> str:
    """The worker's compile; returns what came of it (draft, failed, superseded, skipped).

    A failure ends the bulletin `failed` with the error (a planner retries it); a database
    that cannot be reached raises instead, and the outbox hands the task out again.
    """
    from audits.rendering.docx import render_docx
    from audits.rendering.pdf import render_pdf

    attempt = _begin(bulletin_id)
    if attempt is None:
        outbox.mark_done(outbox_id)
        return "skipped"
    progress = _Progress(bulletin_id, attempt)
    try:
        bulletin = Bulletin.objects.select_related(
            "unit", "issuer", "campaign", "corrects", "requested_by"
        ).get(pk=bulletin_id)
        selected = bulletin.content is None
        if bulletin.content is None:
            progress("selecting", 5)
        content: dict = bulletin.content if bulletin.content is not None else _select(bulletin)
        progress("photos", 15)
        doc = document(bulletin, content, issued_on=clock.today())
        pages = estimated_pages(content, bulletin.requirements)
        pdf = render_pdf(doc, progress=progress.pdf(20, 88, pages))
        progress("storing", 90)
        stored = _store(bulletin, pdf, "pdf")
        if not _finish(bulletin_id, attempt, content, stored, selected):
            outbox.mark_done(outbox_id)
            return "superseded"
        # The draft is ready to preview; its Word copy follows.
        name, digest = _store(bulletin, render_docx(doc), "docx")
        with _job("bulletin.compile"):
            Bulletin.objects.filter(
                pk=bulletin_id, attempts=attempt, status=BulletinStatus.DRAFT, docx=""
            ).update(docx=name, docx_sha256=digest)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.exception("bulletin %s: compile failed", bulletin_id)
        _fail(bulletin_id, attempt, exc)
        outbox.mark_done(outbox_id)
        return "failed"
    outbox.mark_done(outbox_id)
    return "draft"


# --- issuing, delivery, acknowledgement ----------------------------------------------------


def _next_number(issuer_id: uuid.UUID, year: int) -> int:
    """The next 第N期 of this issuing unit and year; the counter row stays locked until the
    issue commits (or rolls back, and gives the number back)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audits_bulletincounter (issuer_id, year, last) VALUES (%s, %s, 1)"
            " ON CONFLICT (issuer_id, year)"
            " DO UPDATE SET last = audits_bulletincounter.last + 1 RETURNING last",
            [issuer_id, year],
        )
        return cursor.fetchone()[0]


def _head() -> d.SealedHead | None:
    head = current_head()
    if head is None:
        # A new installation whose scheduler has not sealed anything yet.
        seal()
        head = current_head()
    return d.SealedHead.of(head) if head is not None else None


def bulletin_issue(*, actor: User, bulletin_id: uuid.UUID, if_match: str | None = None) -> Bulletin:
    """Number a draft (第N期 of its issuing unit this year), render it with the number and
    the audit trail's signed head, freeze the PDF's SHA-256, and queue its delivery.

    If-Match, when given, must name the version the planner previewed: a draft another
    planner changed since is refused (412), one being changed this moment too (409).
    """
    from audits.rendering.pdf import render_pdf

    with acting(actor, "bulletin.issue"):
        bulletin = _bulletin(actor, bulletin_id)
        _may_change(actor, bulletin)
        if if_match:
            check_version(bulletin, if_match)
        if bulletin.status != BulletinStatus.DRAFT:
            raise WrongState(_("通报草稿尚未生成完毕（或生成失败），不能印发。"))
        today = clock.today()
        _set_addressees(actor, bulletin, today)
        head = _head()
        bulletin.year, bulletin.number = today.year, _next_number(bulletin.issuer_id, today.year)
        if bulletin.content is None:  # a draft always has its snapshot; this one lost it
            raise WrongState(_("通报草稿尚未生成完毕（或生成失败），不能印发。"))
        try:
            doc = document(bulletin, bulletin.content, issued_on=today, head=head)
        except OSError as exc:  # a preview the snapshot names is gone from the storage
            log.warning("bulletin %s cannot be issued: %s", bulletin.pk, exc)
            raise WrongState(_("草稿引用的照片文件已不存在，请重新生成草稿后再印发。")) from exc
        old = {bulletin.pdf, bulletin.docx} - {""}
        bulletin.pdf, bulletin.sha256 = _store(bulletin, render_pdf(doc), "pdf")
        bulletin.docx = bulletin.docx_sha256 = ""
        bulletin.status, bulletin.stage = BulletinStatus.ISSUED, "issued"
        bulletin.issued_on, bulletin.issued_at, bulletin.issued_by = today, clock.now(), actor
        if head is not None:
            bulletin.head_tree_size, bulletin.head_root = head.tree_size, head.root_hex
        bump(
            bulletin,
            *("year", "number", "pdf", "sha256", "docx", "docx_sha256", "status", "stage"),
            *("issued_on", "issued_at", "issued_by", "head_tree_size", "head_root"),
        )
        outbox.enqueue(DELIVER_TASK, bulletin_id=str(bulletin.pk))
        outbox.enqueue(DOCX_TASK, bulletin_id=str(bulletin.pk))
        transaction.on_commit(lambda: _forget(old - {bulletin.pdf}))
    return bulletin


def issued_document(bulletin: Bulletin) -> d.BulletinDocument:
    """An issued bulletin's document again, as printed (its head from the trail's heads)."""
    head = head_at(bulletin.head_tree_size) if bulletin.head_tree_size else None
    if bulletin.content is None or bulletin.issued_on is None:
        raise WrongState(_("通报尚未印发。"))
    return document(
        bulletin,
        bulletin.content,
        issued_on=bulletin.issued_on,
        head=d.SealedHead.of(head) if head is not None else None,
    )


def bulletin_render_issued_docx(
    *, bulletin_id: uuid.UUID | str, outbox_id: int | None = None
) -> str:
    """The Word copy of an issued bulletin, rendered once after the PDF."""
    from audits.rendering.docx import render_docx

    bulletin = (
        Bulletin.objects.select_related("unit", "issuer", "corrects").filter(pk=bulletin_id).first()
    )
    if bulletin is None or bulletin.status != BulletinStatus.ISSUED or bulletin.docx:
        outbox.mark_done(outbox_id)
        return "skipped"
    name, digest = _store(bulletin, render_docx(issued_document(bulletin)), "docx")
    with _job("bulletin.render_docx"):
        Bulletin.objects.filter(pk=bulletin_id, docx="").update(docx=name, docx_sha256=digest)
        outbox.mark_done(outbox_id)
    return "rendered"


def _notice_text(bulletin: Bulletin, kind: str) -> str:
    facts = {"label": bulletin.issue_label, "title": bulletin.title}
    if kind == REMINDER_KIND:
        return _("提醒：督查通报%(label)s《%(title)s》尚未签收，请及时签收。") % facts
    return _("请签收督查通报%(label)s《%(title)s》。") % facts


def bulletin_deliver(*, bulletin_id: uuid.UUID | str, outbox_id: int | None = None) -> int:
    """Deliver an issued bulletin to each recipient not yet reached: a notice in their inbox
    and, for those with an address, the e-mail with the PDF. Returns how many were reached."""
    with _job("bulletin.deliver"):
        bulletin = Bulletin.objects.filter(pk=bulletin_id, status=BulletinStatus.ISSUED).first()
        if bulletin is None:
            outbox.mark_done(outbox_id)
            return 0
        pending = list(
            BulletinRecipient.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(bulletin=bulletin, delivered_at__isnull=True)
        )
        with translation.override(settings.LANGUAGE_CODE):
            notify(
                recipients=[r.user for r in pending],
                kind=ISSUED_KIND,
                text=_notice_text(bulletin, ISSUED_KIND),
                about=bulletin,
                dedupe_key=f"bulletin:{bulletin.pk}:issued",
            )
        BulletinRecipient.objects.filter(pk__in=[r.pk for r in pending]).update(
            delivered_at=clock.now()
        )
        outbox.mark_done(outbox_id)
    return len(pending)


def bulletin_acknowledge(*, actor: User, bulletin_id: uuid.UUID) -> BulletinRecipient:
    """The recipient confirms receipt of their copy (again: nothing changes)."""
    with acting(actor, "bulletin.acknowledge"):
        bulletin = visible(actor, Bulletin).filter(pk=bulletin_id).first()
        if bulletin is None:
            raise NotFound()
        mine = (
            BulletinRecipient.objects.select_for_update(of=("self",))
            .filter(bulletin=bulletin, user=actor, bulletin__status=BulletinStatus.ISSUED)
            .first()
        )
        if mine is None:
            raise Forbidden(code=ErrorCode.NOT_A_RECIPIENT)
        if mine.acknowledged_at is None:
            mine.acknowledged_at = clock.now()
            mine.save(update_fields=["acknowledged_at"])
            # Its notices are done with: read, as far as the inbox is concerned.
            Notification.objects.filter(
                recipient=actor,
                object_type="bulletin",
                object_id=str(bulletin.pk),
                read_at__isnull=True,
            ).update(read_at=mine.acknowledged_at)
    return mine


def mail_attachments(notice: Notification) -> list[Attachment]:
    """The issued PDF, for the e-mail of a delivery or a reminder (audits.services.mail)."""
    if notice.kind not in (ISSUED_KIND, REMINDER_KIND):
        return []
    bulletin = Bulletin.objects.filter(pk=notice.object_id, status=BulletinStatus.ISSUED).first()
    if bulletin is None:
        return []
    name = f"督查通报{bulletin.issue_label}.pdf"
    return [Attachment(name, _read_file(bulletin.pdf), "application/pdf")]


# --- the scheduler -------------------------------------------------------------------------


def bulletins_remind(*, after_days: int | None = None, rounds: int | None = None) -> int:
    """Remind recipients who have not acknowledged: once `after_days` after delivery, again
    each `after_days`, at most `rounds` times. Each round is one notice per person, however
    often the tracker runs. Returns how many reminders were sent."""
    every = after_days or settings.BULLETIN_REMIND_AFTER_DAYS
    most = rounds or settings.BULLETIN_REMIND_ROUNDS
    now = clock.now()
    sent = 0
    with _job("bulletin.remind"):
        due = (
            BulletinRecipient.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("bulletin", "user")
            .filter(
                bulletin__status=BulletinStatus.ISSUED,
                delivered_at__lte=now - timedelta(days=every),
                acknowledged_at__isnull=True,
                reminders__lt=most,
                user__is_active=True,
            )
            .order_by("bulletin_id", "id")
        )
        for row in due:
            if row.delivered_at is None:  # the query's own condition; for the type checker
                continue
            round_ = min(most, (now - row.delivered_at).days // every)
            if round_ <= row.reminders:
                continue
            with translation.override(settings.LANGUAGE_CODE):
                sent += len(
                    notify(
                        recipients=[row.user],
                        kind=REMINDER_KIND,
                        text=_notice_text(row.bulletin, REMINDER_KIND),
                        about=row.bulletin,
                        dedupe_key=f"bulletin:{row.bulletin_id}:remind:{round_}",
                    )
                )
            row.reminders, row.last_reminded_at = round_, now
            row.save(update_fields=["reminders", "last_reminded_at"])
    return sent


def _planner_for(scope: Unit) -> tuple[User, Unit] | None:
    """The planner a scheduled draft is compiled for, and their unit (the issuer): of the
    scope's own unit, else of the nearest unit above it that has one (first by username)."""
    codes = scope.path.strip("/").split("/")
    planners = User.objects.filter(
        is_active=True, roles__contains=[Role.PLANNER], unit__code__in=codes
    ).select_related("unit")
    by_unit: dict[str, tuple[User, Unit]] = {}
    for user in planners.order_by("username"):
        if user.unit is not None:
            by_unit.setdefault(user.unit.code, (user, user.unit))
    for code in reversed(codes):
        if code in by_unit:
            return by_unit[code]
    return None


def _auto(
    key: str, scope: Unit, start: date, end: date, campaign: Campaign | None
) -> Bulletin | None:
    if Bulletin.objects.filter(auto_key=key).exists():
        return None
    found = _planner_for(scope)
    if found is None:
        log.info("bulletin %s: no planner at or above %s, no draft", key, scope.code)
        return None
    planner, issuer = found
    try:
        with transaction.atomic():
            bulletin = Bulletin.objects.create(
                issuer=issuer,
                unit=scope,
                campaign=campaign,
                period_start=start,
                period_end=end,
                title=default_title(scope=scope, start=start, end=end, campaign=campaign),
                requested_by=planner,
                auto_key=key,
                stage="queued",
            )
    except IntegrityError:  # another run of the scheduler made it first
        return None
    _set_addressees(planner, bulletin, clock.today())
    _enqueue_compile(bulletin)
    return bulletin


def bulletins_generate(*, today: date | None = None) -> list[Bulletin]:
    """The scheduled drafts, each made once (`auto_key`): one per campaign that has ended
    (in the last month), and for last month one per county and one for the city."""
    today = today or clock.today()
    made: list[Bulletin | None] = []
    with _job("bulletin.schedule"):
        ended = Campaign.objects.filter(
            ends_on__lt=today, ends_on__gte=today - CAMPAIGN_LOOKBACK
        ).select_related("unit")
        for campaign in ended.order_by("ends_on", "id"):
            end = campaign.ends_on
            made.append(
                _auto(f"campaign:{campaign.pk}", campaign.unit, campaign.starts_on, end, campaign)
            )
        last_end = today.replace(day=1) - timedelta(days=1)
        start = last_end.replace(day=1)
        for unit in Unit.objects.filter(level__in=[Level.CITY, Level.COUNTY]).order_by("path"):
            key = f"monthly:{unit.code}:{start:%Y-%m}"
            made.append(_auto(key, unit, start, last_end, None))
    return [b for b in made if b is not None]
