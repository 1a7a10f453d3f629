"""The audit trail: the append-only events table and capture triggers on every table."""

from django.db import migrations

from audits.trail import sql
from audits.trail.operations import AuditTable


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial")]

    operations = [
        migrations.RunSQL(sql.CREATE_TRAIL, sql.DROP_TRAIL),
        AuditTable("audits_unit", "unit"),
        AuditTable("audits_official", "official"),
        AuditTable("audits_position", "position"),
        AuditTable("audits_user", "user", redact=["password"]),
        AuditTable("audits_user_groups", "user_group"),
        AuditTable("audits_user_user_permissions", "user_permission"),
        AuditTable("audits_team", "team"),
        AuditTable("audits_team_members", "team_member"),
        AuditTable("audits_devicesession", "device_session", redact=["refresh_jti"]),
    ]
