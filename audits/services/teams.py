"""Forming inspection teams, and changing who sits on them.

Membership decides what a member sees (visibility: a team's visits and what hangs off
them), so every change of it goes through these verbs, the admin's included: they leave
the sync feed the marks that row changes alone would not (`SyncReset`, `SyncRemoval`).
"""

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audits.choices import Role, VisitStatus
from audits.errors import Forbidden, Invalid
from audits.models import SyncReset, Team, Unit, User
from audits.services.common import acting, bump, create_or_replay, locked
from audits.services.sync_marks import visit_left_view
from audits.visibility import visible


def _manages(actor: User, unit: Unit | None, perm: str) -> bool:
    """A planner of `unit` or a unit above it; in the admin, whoever it lets manage teams."""
    if actor.has_perm(perm):
        return True
    return (
        actor.has_role(Role.PLANNER)
        and actor.unit is not None
        and unit is not None
        and unit.path.startswith(actor.unit.path)
    )


def _people(actor: User, perm: str) -> QuerySet[User]:
    # The admin picks from every account; a planner from those in their jurisdiction.
    return User.objects.all() if actor.has_perm(perm) else visible(actor, User)


def _check_people(actor: User, perm: str, lead: int, members: list[int]) -> list[int]:
    """The team's user ids (lead included), or a 400 naming who may not sit on it."""
    people = {u.pk: u for u in _people(actor, perm).filter(pk__in={lead, *members})}
    errors = {}
    if lead not in people or not people[lead].has_role(Role.TEAM_LEAD):
        errors["lead"] = [_("组长须是可见的、具有组长角色的用户。")]
    bad = [
        m
        for m in members
        if m not in people or not people[m].has_role(Role.INSPECTOR, Role.TEAM_LEAD)
    ]
    if bad:
        errors["members"] = [_("以下用户不能担任组员：%s") % ", ".join(map(str, bad))]
    if errors:
        raise Invalid(errors)
    return sorted({lead, *members})


def team_create(
    *,
    actor: User,
    name: str,
    lead: int,
    members: list[int],
    team_id: uuid.UUID | None = None,
    owner_unit: Unit | None = None,
) -> tuple[Team, bool]:
    """Form a team owned by the planner's home unit (or `owner_unit`, the admin's choice);
    returns (team, created)."""
    owner = owner_unit if owner_unit is not None else actor.unit
    if owner is None or not _manages(actor, owner, "audits.add_team"):
        raise Forbidden(_("只有组织部门可以组建暗访组。"))
    member_ids = _check_people(actor, "audits.add_team", lead, members)

    def create() -> Team:
        team = Team.objects.create(
            id=team_id or uuid.uuid4(),
            name=name,
            lead_id=lead,
            owner_unit=owner,
            created_by=actor,
        )
        team.members.set(member_ids)
        # Their view widens without any visit row changing: their next sync resends all.
        SyncReset.objects.bulk_create([SyncReset(user_id=m) for m in member_ids])
        return team

    with acting(actor, "team.create"):
        return create_or_replay(
            actor, Team, team_id, {"name": name, "lead": lead, "members": member_ids}, create
        )


def team_update(
    *,
    actor: User,
    team_id: uuid.UUID,
    name: str,
    lead: int,
    members: list[int],
    owner_unit: Unit | None = None,
) -> Team:
    """Rename a team, or change its lead, members or owning unit.

    Who joins sees the team's visits from now on: their next sync resends everything. Who
    leaves no longer does: their apps are told to drop those visits and their findings.
    """
    perm = "audits.change_team"
    with acting(actor, "team.update"):
        teams = Team.objects.all() if actor.has_perm(perm) else visible(actor, Team)
        team = locked(teams.select_related("owner_unit"), team_id)
        owner = owner_unit if owner_unit is not None else team.owner_unit
        if not (_manages(actor, team.owner_unit, perm) and _manages(actor, owner, perm)):
            raise Forbidden(_("只有组织部门可以修改暗访组。"))
        after = set(_check_people(actor, perm, lead, members))
        before = {team.lead_id, *team.members.values_list("pk", flat=True)}
        team.name, team.lead_id, team.owner_unit = name, lead, owner
        bump(team, "name", "lead", "owner_unit")
        team.members.set(sorted(after))
        joined, left = sorted(after - before), sorted(before - after)
        SyncReset.objects.bulk_create([SyncReset(user_id=u) for u in joined])
        if left:
            for visit in team.visits.exclude(status=VisitStatus.CANCELLED):
                visit_left_view(visit, left)
    return team
