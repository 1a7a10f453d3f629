"""Models of the domain, one module per subdomain."""

from audits.models.accounts import DeviceSession, Team, User
from audits.models.checklists import Checklist, ChecklistItem
from audits.models.org import Official, Position, Unit
from audits.models.trail import AuditEvent

__all__ = [
    "AuditEvent",
    "Checklist",
    "ChecklistItem", "DeviceSession", "Official", "Position", "Team", "Unit", "User"]
