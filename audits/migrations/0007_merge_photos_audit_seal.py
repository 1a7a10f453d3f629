"""Joins the two branches of 0006: photo evidence and audit sealing touch separate tables."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audits", "0006_audit_seal"), ("audits", "0006_photos")]

    operations = []
