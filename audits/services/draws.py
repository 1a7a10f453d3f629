"""The random draw of a campaign's targets, and visits added by hand.

The draw is documented in docs/DRAW.md so that anyone can rerun it from the revealed seed and
the frame: `rank` below is the whole of the random part, and it needs no database.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from audits.choices import Level, VisitStatus
from audits.conflicts import check_assignment, conflicted_counties, county_of_path
from audits.errors import Conflict, DomainError, ErrorCode, Forbidden, Invalid, NotFound, WrongState
from audits.models import Campaign, Draw, Team, Unit, User, Visit
from audits.permissions import plans
from audits.services.common import acting, create_or_replay
from audits.trail import context

ALGORITHM = "sha256-rank-v1"
SEED_MIN, SEED_MAX = 8, 128

# The depth of each level in the tree (city 0 … village/community 3): a frame holds units
# strictly below the frame unit.
LEVEL_DEPTH: dict[str, int] = {
    Level.CITY: 0,
    Level.COUNTY: 1,
    Level.ZONE: 1,
    Level.TOWNSHIP: 2,
    Level.VILLAGE: 3,
    Level.COMMUNITY: 3,
}


# --- the documented, database-free part ---------------------------------------------------


def digest(seed: str, code: str) -> str:
    """SHA-256 hex digest of the UTF-8 bytes of `seed + ":" + code`."""
    return hashlib.sha256(f"{seed}:{code}".encode()).hexdigest()


def rank(seed: str, codes: list[str]) -> list[str]:
    """The frame's distinct codes ordered by `digest(seed, code)` ascending, ties by code."""
    return sorted(set(codes), key=lambda code: (digest(seed, code), code))


def commitment(seed: str) -> str:
    """What is published at draw time: the SHA-256 hex digest of the seed's UTF-8 bytes."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def new_seed() -> str:
    """A server seed: 32 random bytes as 64 hex characters."""
    return secrets.token_hex(32)


def seed_problem(seed: str) -> str | None:
    """Why a planner's seed is refused, or None: 8–128 printable characters."""
    if not isinstance(seed, str) or not SEED_MIN <= len(seed) <= SEED_MAX:
        return _("种子须为 %(min)d 至 %(max)d 个字符。") % {"min": SEED_MIN, "max": SEED_MAX}
    if not seed.isprintable():
        return _("种子只能包含可打印字符。")
    return None


# --- the draw ------------------------------------------------------------------------------


def campaign_days(campaign: Campaign) -> tuple[datetime, datetime]:
    """The campaign's window: starts_on 00:00 to ends_on 23:59:59.999999, local time."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.combine(campaign.starts_on, time.min, tzinfo=tz),
        datetime.combine(campaign.ends_on, time.max, tzinfo=tz),
    )


def check_window(campaign: Campaign, start: datetime, end: datetime) -> None:
    """A visit's window lies within its campaign's days (400 naming each bad end).

    The one check for a visit added by hand (`visit_add`) and a window moved (`visit_update`).
    """
    first, last = campaign_days(campaign)
    errors = {}
    if not first <= start <= last:
        errors["window_start"] = [_("窗口须在专题日期之内。")]
    if not first <= end <= last:
        errors["window_end"] = [_("窗口须在专题日期之内。")]
    if end < start:
        errors["window_end"] = [_("窗口结束不能早于开始。")]
    if errors:
        raise Invalid(errors)


def conflict_day(campaign: Campaign) -> date:
    """The day conflicts of interest are judged on: the campaign's first day.

    Fixed by the campaign (not by the day the planner acts), so a draw is reproducible, and
    the earliest day of the campaign, so the five years cover every day of it.
    """
    return campaign.starts_on


def _locked_campaign(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("unit").get(pk=campaign.pk)
    )


def _taken_targets(campaign: Campaign) -> QuerySet[Visit, Any]:
    return (
        Visit.objects.filter(campaign=campaign)
        .exclude(status=VisitStatus.CANCELLED)
        .values("target_id")
    )


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The latest earlier campaign of the same owner unit that has (non-cancelled) visits."""
    has_visits = Visit.objects.filter(campaign=OuterRef("pk")).exclude(status=VisitStatus.CANCELLED)
    return (
        Campaign.objects.filter(unit_id=campaign.unit_id, starts_on__lt=campaign.starts_on)
        .filter(Exists(has_visits))
        .order_by("-starts_on", "-ends_on", "id")
        .first()
    )


def _returns(campaign: Campaign) -> set[tuple[object, str | None]]:
    """(team id, county code) pairs visited in the previous campaign of the owner unit."""
    prev = previous_campaign(campaign)
    if prev is None:
        return set()
    rows = (
        Visit.objects.filter(campaign=prev)
        .exclude(status=VisitStatus.CANCELLED)
        .values_list("team_id", "target__path")
    )
    return {(team_id, county_of_path(path)) for team_id, path in rows}


def _frame(campaign: Campaign, frame_unit: Unit, level: str) -> dict[str, tuple[uuid.UUID, str]]:
    """{code: (unit id, path)} of the units of `level` under `frame_unit` not yet targeted."""
    rows = (
        Unit.objects.filter(level=level, path__startswith=frame_unit.path)
        .exclude(pk__in=_taken_targets(campaign))
        .order_by("code")
        .values_list("code", "pk", "path")
    )
    return {code: (pk, path) for code, pk, path in rows}


def _check_request(
    actor: User, campaign: Campaign, frame_unit: Unit, level: str, size: int, seed: str | None
) -> None:
    if not plans(actor, campaign):
        raise Forbidden(_("只有本专题的组织部门可以抽取检查对象。"))
    if Draw.objects.filter(campaign_id=campaign.pk).exists():
        raise WrongState(code=ErrorCode.ALREADY_DRAWN)
    if not campaign.unit.contains(frame_unit):
        raise DomainError(code=ErrorCode.FRAME_OUTSIDE_CAMPAIGN)
    if level not in LEVEL_DEPTH or LEVEL_DEPTH[level] <= frame_unit.depth:
        raise DomainError(code=ErrorCode.LEVEL_NOT_BELOW_FRAME)
    if not isinstance(size, int) or size < 1:
        raise DomainError(code=ErrorCode.BAD_SIZE)
    if seed is not None and (problem := seed_problem(seed)) is not None:
        raise DomainError(problem, code=ErrorCode.BAD_SEED)


def _teams(campaign: Campaign, teams: list[Team] | None) -> list[Team]:
    if teams is None:
        chosen = list(Team.objects.filter(owner_unit_id=campaign.unit_id))
    else:
        chosen = list({t.pk: t for t in teams}.values())
    if not chosen:
        raise Conflict(code=ErrorCode.NO_TEAMS)
    return sorted(chosen, key=lambda t: str(t.pk))


def assign(
    ranked: list[str],
    size: int,
    teams: list[Team],
    counties: dict[str, str | None],
    conflicted: dict[object, set[str]],
    returns: set[tuple[object, str | None]],
) -> tuple[list[tuple[str, Team]], list[dict]]:
    """Walk the ranking: ([(code, team)] taken in rank order, skipped). No queries.

    For each code, the candidates are the teams not conflicted on its county; none → skipped.
    Among them: first the teams that did not visit that county in the previous campaign, then
    the fewest visits so far in this draw, then the smallest team id (as text).
    """
    load = {t.pk: 0 for t in teams}
    taken: list[tuple[str, Team]] = []
    skipped: list[dict] = []
    for code in ranked:
        if len(taken) == size:
            break
        county = counties[code]
        candidates = [t for t in teams if county not in conflicted[t.pk]]
        if not candidates:
            skipped.append({"unit": code, "reason": "conflict_of_interest"})
            continue
        team = min(candidates, key=lambda t: ((t.pk, county) in returns, load[t.pk], str(t.pk)))
        load[team.pk] += 1
        taken.append((code, team))
    return taken, skipped


def campaign_draw(
    *,
    actor: User,
    campaign: Campaign,
    frame_unit: Unit,
    level: str,
    size: int,
    seed: str | None = None,
    teams: list[Team] | None = None,
) -> Draw:
    """Draw `size` distinct units of `level` under `frame_unit` and plan a visit to each.

    Fewer than `size` visits are created when the frame runs out of units some team may
    inspect; `Draw.targets` then is shorter than `Draw.size` and `Draw.skipped` says why.
    """
    with transaction.atomic(), context.user_context(actor), context.action("campaign.draw"):
        campaign = _locked_campaign(campaign)
        _check_request(actor, campaign, frame_unit, level, size, seed)
        frame = _frame(campaign, frame_unit, level)
        if size > len(frame):
            raise DomainError(
                _("抽样范围内只有 %(n)d 个可抽取的单位，少于抽取数量 %(size)d。")
                % {"n": len(frame), "size": size},
                code=ErrorCode.FRAME_TOO_SMALL,
            )
        teams = _teams(campaign, teams)
        seed = seed if seed is not None else new_seed()
        counties = {code: county_of_path(path) for code, (_pk, path) in frame.items()}
        taken, skipped = assign(
            rank(seed, list(frame)),
            size,
            teams,
            counties,
            conflicted_counties(teams, conflict_day(campaign)),
            _returns(campaign),
        )
        window_start, window_end = campaign_days(campaign)
        Visit.objects.bulk_create(
            [
                Visit(
                    id=uuid.uuid4(),
                    campaign=campaign,
                    target_id=frame[code][0],
                    team=team,
                    window_start=window_start,
                    window_end=window_end,
                    drawn=True,
                )
                for code, team in taken
            ]
        )
        return Draw.objects.create(
            campaign=campaign,
            seed=seed,
            commitment=commitment(seed),
            algorithm=ALGORITHM,
            frame_unit=frame_unit,
            level=level,
            size=size,
            frame=list(frame),
            targets=[frame[code][0] for code, _team in taken],
            skipped=skipped,
            drawn_by=actor,
        )


def draw_reveal(*, campaign: Campaign, today: date) -> dict:
    """The draw with its seed, once the campaign has ended (else 409 draw_sealed)."""
    draw = Draw.objects.select_related("frame_unit").filter(campaign_id=campaign.pk).first()
    if draw is None:
        raise NotFound()
    if not today > campaign.ends_on:
        raise Conflict(
            _("专题结束（%(day)s）之后才公开抽签种子。") % {"day": campaign.ends_on},
            code=ErrorCode.DRAW_SEALED,
        )
    units = {u.pk: u for u in Unit.objects.filter(pk__in=draw.targets)}
    return {
        "seed": draw.seed,
        "commitment": draw.commitment,
        "algorithm": draw.algorithm,
        "frame_unit": str(draw.frame_unit_id),
        "frame_unit_code": draw.frame_unit.code,
        "level": draw.level,
        "size": draw.size,
        "targets": [
            {"id": str(pk), "code": units[pk].code, "name": units[pk].name} for pk in draw.targets
        ],
        "skipped": draw.skipped,
        "frame": list(draw.frame),
        "drawn_at": draw.drawn_at.isoformat(),
    }


# --- visits added by hand --------------------------------------------------------------------


def visit_add(
    *,
    actor: User,
    campaign: Campaign,
    target: Unit,
    team: Team,
    visit_id: uuid.UUID | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> tuple[Visit, bool]:
    """A visit the planner chooses (not drawn); returns (visit, created).

    A repeat with the same client-chosen id and the same content returns the first visit.
    """
    first, last = campaign_days(campaign)
    start = window_start if window_start is not None else first
    end = window_end if window_end is not None else last
    fields = {
        "campaign": campaign,
        "target": target,
        "team": team,
        "window_start": start,
        "window_end": end,
        "drawn": False,
    }

    def create() -> Visit:
        locked = _locked_campaign(campaign)
        if not plans(actor, locked):
            raise Forbidden(_("只有本专题的组织部门可以安排检查。"))
        if not locked.unit.contains(target):
            raise DomainError(code=ErrorCode.TARGET_OUTSIDE_CAMPAIGN)
        check_window(locked, start, end)
        if _taken_targets(locked).filter(target_id=target.pk).exists():
            raise Conflict(code=ErrorCode.ALREADY_TARGETED)
        check_assignment(team, target, on=conflict_day(locked))
        return Visit.objects.create(id=visit_id or uuid.uuid4(), **fields)

    with acting(actor, "visit.add"):
        if not plans(actor, campaign):
            raise Forbidden(_("只有本专题的组织部门可以安排检查。"))
        return create_or_replay(actor, Visit, visit_id, fields, create)
