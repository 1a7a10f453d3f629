"""The audit trail: one append-only row per change of state, written by database triggers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """An audit event (审计记录).

    The table, its triggers and its grants are created by hand-written SQL in the migrations
    (`audits/trail/sql.py`), so the model is unmanaged: Django never alters, truncates or
    flushes it, and the database refuses UPDATE, DELETE and TRUNCATE on it.
    """

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.TextField(blank=True)
    action = models.TextField()
    operation = models.CharField(max_length=8)
    object_type = models.TextField()
    object_id = models.TextField()
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    ip = models.GenericIPAddressField(null=True)
    device_id = models.TextField(blank=True)
    request_id = models.TextField(blank=True)
    txid = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "audit_event"
        ordering = ["seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    @property
    def changes(self) -> dict:
        """Changed fields as {field: {"before": old, "after": new}}."""
        before, after = self.before or {}, self.after or {}
        return {
            key: {"before": before.get(key), "after": after.get(key)}
            for key in sorted(set(before) | set(after))
        }


class AuditSeal(models.Model):
    """The sealed leaf of one sequence number: an event's, or a gap's (docs/AUDIT.md).

    Created by `audits.trail.sql.CREATE_SEAL`; append-only like the events.
    """

    seq = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=5)  # "event" or "gap"
    leaf = models.BinaryField()
    mac = models.BinaryField()
    sealed_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "audit_seal"
        ordering = ["seq"]
        verbose_name = _("审计封存")
        verbose_name_plural = _("审计封存")

    def __str__(self) -> str:
        return f"seal #{self.seq} ({self.kind})"


class AuditHead(models.Model):
    """A signed tree head: the Merkle root over sequence numbers 1..tree_size."""

    tree_size = models.BigIntegerField(primary_key=True)
    root = models.BinaryField()
    signed_at = models.DateTimeField()
    key_id = models.TextField()
    signature = models.BinaryField()

    class Meta:
        managed = False
        db_table = "audit_head"
        ordering = ["tree_size"]
        verbose_name = _("签名树头")
        verbose_name_plural = _("签名树头")

    def __str__(self) -> str:
        return f"head {self.tree_size}"
