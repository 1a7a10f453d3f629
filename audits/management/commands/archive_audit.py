"""`manage.py archive_audit --out FILE [--from-seq A] [--upto SEQ | --before DATE]`.

Writes sealed events to a gzip'd JSON-lines file that stays verifiable on its own (see
docs/AUDIT.md, "Retention"): the canonical bytes of every leaf, the subtree hashes that sum up
the leaves before it, and the signed head it ends at. Nothing is deleted: the application
never deletes events; moving the table's old partitions away is an operator's decision.
"""

import gzip
import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.dateparse import parse_date

from audits.trail import keys, merkle
from audits.trail.seal import head_at, subtree_hasher
from audits.trail.sql import CANONICAL_EVENT


class Command(BaseCommand):
    help = "Export sealed audit events to a self-verifying archive file (deletes nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="file to write (.jsonl.gz)")
        parser.add_argument("--from-seq", type=int, default=1)
        parser.add_argument("--upto", type=int, help="last sequence number wanted")
        parser.add_argument("--before", help="date: archive at least the events before it")

    def handle(self, *args, **options) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            target = options["upto"]
            if options["before"]:
                day = parse_date(options["before"])
                if day is None:
                    raise CommandError("--before takes a date, YYYY-MM-DD")
                moment = datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
                cursor.execute("SELECT max(seq) FROM audit_event WHERE at < %s", [moment])
                target = cursor.fetchone()[0] or 0
            if target is None:
                cursor.execute("SELECT max(tree_size) FROM audit_head")
                target = cursor.fetchone()[0] or 0
            # The archive ends at a signed head: the first one that covers the target.
            cursor.execute(
                "SELECT min(tree_size) FROM audit_head WHERE tree_size >= %s",
                [max(target, options["from_seq"])],
            )
            size = cursor.fetchone()[0]
            if size is None:
                raise CommandError("nothing sealed that far yet: run the sealer first")
            head = head_at(size)
            first = options["from_seq"]
            parts = merkle.decompose(0, first - 1)
            known = subtree_hasher(cursor)(parts) if parts else {}
            header = {
                "format": "duchaa-audit-archive/v1",
                "first_seq": first,
                "last_seq": size,
                "prefix": [known[p].hex() for p in parts],
                "head": head.as_dict(),
                "public_key": keys.public_key_b64(),
            }
            count = 0
            with gzip.open(options["out"], "wt", encoding="utf-8") as out:
                out.write(json.dumps(header, ensure_ascii=False) + "\n")
                raw = connection.connection
                with raw.cursor(name="audit_archive") as rows:
                    rows.itersize = 5000
                    rows.execute(
                        f"SELECT s.seq, s.kind, s.mac, {CANONICAL_EVENT} FROM audit_seal s"  # noqa: S608
                        " LEFT JOIN audit_event e ON e.seq = s.seq"
                        " WHERE s.seq BETWEEN %s AND %s ORDER BY s.seq",
                        [first, size],
                    )
                    for seq, kind, mac, canonical in rows:
                        if kind == "gap":
                            canonical = merkle.gap_bytes(seq).decode()
                        elif canonical is None:
                            raise CommandError(
                                f"event {seq} is sealed but missing: run verify_audit"
                            )
                        out.write(
                            json.dumps(
                                {
                                    "seq": seq,
                                    "kind": kind,
                                    "canonical": canonical,
                                    "mac": bytes(mac).hex(),
                                },
                                ensure_ascii=False,
                            )
                            + "\n"
                        )
                        count += 1
        self.stdout.write(f"archived {count} leaves {first}..{size} to {options['out']}")
