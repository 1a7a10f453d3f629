"""Forming inspection teams."""

import uuid

from django.utils.translation import gettext as _

from audits.choices import Role
from audits.errors import Forbidden, Invalid
from audits.models import SyncReset, Team, User
from audits.services.common import acting, create_or_replay
from audits.visibility import visible


def team_create(
    *, actor: User, name: str, lead: int, members: list[int], team_id: uuid.UUID | None = None
) -> tuple[Team, bool]:
    """Form a team owned by the planner's home unit; returns (team, created)."""
    if not actor.has_role(Role.PLANNER) or actor.unit_id is None:
        raise Forbidden(_("只有组织部门可以组建暗访组。"))
    people = {u.pk: u for u in visible(actor, User).filter(pk__in={lead, *members})}
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
    member_ids = sorted({lead, *members})

    def create() -> Team:
        team = Team.objects.create(
            id=team_id or uuid.uuid4(),
            name=name,
            lead_id=lead,
            owner_unit_id=actor.unit_id,
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
