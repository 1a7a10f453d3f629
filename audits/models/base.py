"""Shared model building blocks."""

from django.db import models


class Synced(models.Model):
    """A row the mobile app caches: `sync_xid` is the transaction that last wrote it.

    A database trigger (`sync_stamp`) sets it on every insert and update, so `GET /sync`
    can find what changed since a snapshot without trusting clocks or commit order.
    """

    sync_xid = models.BigIntegerField(default=0, editable=False, db_index=True)

    class Meta:
        abstract = True
