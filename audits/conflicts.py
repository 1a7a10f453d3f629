"""Conflicts of interest: who may not inspect which unit (refused, not just discouraged).

Two rules, both by county or zone (the second segment of a unit's materialised path):

- ``home_county``: a person whose home unit (``User.unit``) lies in a county or zone may not
  inspect any unit in that county or zone. City-level staff (home unit at depth 0) are not
  conflicted by their home unit.
- ``recent_position``: a person who, as an official (``Official.user``), held a position of any
  title at a unit in a county or zone may not inspect any unit there until five years after the
  position ended. A position counts when its end is empty or on or after ``on`` minus five years.
  A position at the city unit itself belongs to no county and conflicts with nothing.

A team is conflicted on a unit when its lead or any member is. ``conflicted_counties`` answers
that for many teams at once in a fixed number of queries, which is what the draw walks with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext as _

from audits.errors import Conflict, ErrorCode

if TYPE_CHECKING:
    from audits.models import Team, Unit, User

HOME_COUNTY = "home_county"
RECENT_POSITION = "recent_position"
LOOKBACK_YEARS = 5


def county_of(unit: Unit) -> str | None:
    """The code of the county or zone `unit` lies in (itself, for a county); None for a city."""
    return county_of_path(unit.path)


def county_of_path(path: str | None) -> str | None:
    """`county_of` on a materialised path such as "341300/341322/341322101/"."""
    if not path:
        return None
    segments = path.strip("/").split("/")
    return segments[1] if len(segments) >= 2 else None


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def position_cutoff(on: date) -> date:
    """Positions that ended before this day no longer conflict."""
    return years_before(on, LOOKBACK_YEARS)


class ConflictOfInterest(Conflict):
    """The person may not inspect the unit; the message names the rule and the person."""

    code = ErrorCode.CONFLICT_OF_INTEREST

    def __init__(self, person: str, rule: str) -> None:
        self.person, self.rule = person, rule
        if rule == HOME_COUNTY:
            text = _("利益冲突：%(person)s的工作单位与被检查单位在同一县区（规则 %(rule)s）")
        else:
            text = _("利益冲突：%(person)s近五年内曾在被检查单位所在县区任职（规则 %(rule)s）")
        super().__init__(text % {"person": person, "rule": rule})


def rules_by_user(user_ids: Iterable[int], on: date) -> dict[int, dict[str, str]]:
    """For each user: {county code: rule} of every county they may not inspect. Two queries."""
    from audits.models import Position, User

    ids = set(user_ids)
    out: dict[int, dict[str, str]] = {uid: {} for uid in ids}
    if not ids:
        return out
    cutoff = position_cutoff(on)
    held = (
        Position.objects.filter(official__user_id__in=ids)
        .filter(Q(end__isnull=True) | Q(end__gte=cutoff))
        .values_list("official__user_id", "unit__path")
    )
    for uid, path in held:
        county = county_of_path(path)
        if county is not None:
            out[uid].setdefault(county, RECENT_POSITION)
    for uid, path in User.objects.filter(pk__in=ids).values_list("pk", "unit__path"):
        county = county_of_path(path)
        if county is not None:  # None: no home unit, or a city-level one
            out[uid][county] = HOME_COUNTY  # takes precedence over recent_position
    return out


def team_people(teams: Iterable[Team]) -> dict[object, list[int]]:
    """For each team id: its user ids, the lead first, then the other members by id. One query."""
    from audits.models import Team

    teams = list(teams)
    people: dict[object, list[int]] = {t.pk: [t.lead_id] for t in teams}
    members = defaultdict(set)
    rows = Team.members.through.objects.filter(team_id__in=list(people))
    for team_id, user_id in rows.values_list("team_id", "user_id"):
        members[team_id].add(user_id)
    for team_id, lead in list(people.items()):
        people[team_id] = lead + sorted(members[team_id] - set(lead))
    return people


def conflicted_counties(teams: Iterable[Team], on: date) -> dict[object, set[str]]:
    """For each team id: the county and zone codes it may not inspect. Three queries in all."""
    people = team_people(teams)
    rules = rules_by_user({uid for ids in people.values() for uid in ids}, on)
    return {
        team_id: {county for uid in ids for county in rules[uid]} for team_id, ids in people.items()
    }


def conflict(user: User, unit: Unit, *, on: date) -> str | None:
    """The rule that forbids `user` to inspect `unit` on day `on`, or None."""
    county = county_of(unit)
    if county is None:
        return None
    return rules_by_user([user.pk], on)[user.pk].get(county)


def team_conflict(team: Team, unit: Unit, *, on: date) -> tuple[User, str] | None:
    """The first (lead first, then members by id) conflicted person of `team` and the rule."""
    from audits.models import User

    county = county_of(unit)
    if county is None:
        return None
    ids = team_people([team])[team.pk]
    rules = rules_by_user(ids, on)
    for uid in ids:
        rule = rules[uid].get(county)
        if rule is not None:
            return User.objects.get(pk=uid), rule
    return None


def check_assignment(team: Team, unit: Unit, *, on: date) -> None:
    """Raise ConflictOfInterest when `team` may not inspect `unit`."""
    found = team_conflict(team, unit, on=on)
    if found is not None:
        user, rule = found
        raise ConflictOfInterest(user.label, rule)
