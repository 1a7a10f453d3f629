"""Models of the domain, one module per subdomain."""

from audits.models.accounts import DeviceSession, Team, User
from audits.models.bulletins import (
    Bulletin,
    BulletinCounter,
    BulletinRecipient,
    BulletinStatus,
    RecipientKind,
    RecipientSource,
)
from audits.models.checklists import Checklist, ChecklistItem
from audits.models.inspections import (
    Campaign,
    Draw,
    Finding,
    IdempotencyRecord,
    Notification,
    Rectification,
    SyncRemoval,
    SyncReset,
    Visit,
)
from audits.models.org import Official, Position, Unit
from audits.models.photos import OutboxMessage, Photo, PhotoPurpose, PhotoStatus, PhotoUpload
from audits.models.trail import AuditEvent, AuditHead, AuditSeal

__all__ = [
    "AuditEvent",
    "AuditHead",
    "AuditSeal",
    "Bulletin",
    "BulletinCounter",
    "BulletinRecipient",
    "BulletinStatus",
    "Campaign",
    "Checklist",
    "ChecklistItem",
    "DeviceSession",
    "Draw",
    "Finding",
    "IdempotencyRecord",
    "Notification",
    "Official",
    "OutboxMessage",
    "Photo",
    "PhotoPurpose",
    "PhotoStatus",
    "PhotoUpload",
    "Position",
    "RecipientKind",
    "RecipientSource",
    "Rectification",
    "SyncRemoval",
    "SyncReset",
    "Team",
    "Unit",
    "User",
    "Visit",
]
