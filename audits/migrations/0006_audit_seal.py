"""Sealing of the audit trail: leaves, cached subtree hashes and signed heads (docs/AUDIT.md)."""

from django.db import migrations, models

from audits.trail import sql


class Migration(migrations.Migration):
    dependencies = [("audits", "0005_draw_frame")]

    operations = [
        migrations.RunSQL(sql.CREATE_SEAL, sql.DROP_SEAL),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=5)),
                ("leaf", models.BinaryField()),
                ("mac", models.BinaryField()),
                ("sealed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "审计封存",
                "verbose_name_plural": "审计封存",
                "db_table": "audit_seal",
                "ordering": ["seq"],
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                ("tree_size", models.BigIntegerField(primary_key=True, serialize=False)),
                ("root", models.BinaryField()),
                ("signed_at", models.DateTimeField()),
                ("key_id", models.TextField()),
                ("signature", models.BinaryField()),
            ],
            options={
                "verbose_name": "签名树头",
                "verbose_name_plural": "签名树头",
                "db_table": "audit_head",
                "ordering": ["tree_size"],
                "managed": False,
            },
        ),
    ]
