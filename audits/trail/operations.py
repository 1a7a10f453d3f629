"""Migration operations that put a table under the audit trail."""

from collections.abc import Iterable

from django.db import migrations

from audits.trail import sql


class AuditTable(migrations.RunSQL):
    """Attach the capture triggers to a table (reversible: detaches them)."""

    def __init__(
        self, table: str, object_type: str, pk: str = "id", redact: Iterable[str] = ()
    ) -> None:
        self.table, self.object_type = table, object_type
        super().__init__(
            sql.attach(table, object_type, pk=pk, redact=tuple(redact)), sql.detach(table)
        )

    def describe(self) -> str:
        return f"Audit changes of {self.table} as {self.object_type}"


class SyncStamped(migrations.RunSQL):
    """Keep `sync_xid` of a table at the id of the transaction that last wrote each row."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(sql.stamp(table), sql.unstamp(table))

    def describe(self) -> str:
        return f"Stamp {self.table} rows with their writing transaction"
