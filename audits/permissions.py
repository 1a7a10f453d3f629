"""Who may change what. Seeing is `visibility.visible`; these answer "may act" (else 403)."""

from audits.choices import Role
from audits.models import Campaign, Finding, Team, User, Visit


def plans(user: User, campaign: Campaign) -> bool:
    """A planner of the owning unit or a unit above it."""
    return (
        user.has_role(Role.PLANNER)
        and user.unit_id is not None
        and campaign.unit.path.startswith(user.unit.path)
    )


def may_own_campaigns_of(user: User, unit) -> bool:
    return (
        user.has_role(Role.PLANNER)
        and user.unit_id is not None
        and unit.path.startswith(user.unit.path)
    )


def sits_on(user: User, team: Team) -> bool:
    return team.lead_id == user.pk or team.members.filter(pk=user.pk).exists()


def inspects(user: User, visit: Visit) -> bool:
    """A member or the lead of the visit's team, with an inspecting role."""
    return user.has_role(Role.INSPECTOR, Role.TEAM_LEAD) and sits_on(user, visit.team)


def leads(user: User, visit: Visit) -> bool:
    return user.has_role(Role.TEAM_LEAD) and visit.team.lead_id == user.pk


def answers_for(user: User, finding: Finding) -> bool:
    """The unit official of the finding's responsible unit."""
    return user.has_role(Role.UNIT_OFFICIAL) and user.unit_id == finding.responsible_unit_id


def reports_on(user: User, unit) -> bool:
    """A planner whose jurisdiction holds `unit`: may ask for a bulletin about it."""
    return may_own_campaigns_of(user, unit)


def issues(user: User, bulletin) -> bool:
    """A planner of the bulletin's issuing unit or a unit above it: edits and issues it."""
    return (
        user.has_role(Role.PLANNER)
        and user.unit_id is not None
        and bulletin.issuer.path.startswith(user.unit.path)
    )
