"""Helpers of the sealing tests: a superuser connection to the test database, seal-to-date."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from audits.trail import seal


def admin_url() -> str:
    """A superuser URL for the test database: DATABASE_ADMIN_URL, else user postgres."""
    name = connection.settings_dict["NAME"]
    base = os.environ.get("DATABASE_ADMIN_URL")
    if not base:
        parts = urlsplit(os.environ["DATABASE_URL"])
        netloc = "postgres@" + parts.netloc.rsplit("@", 1)[-1]
        base = urlunsplit(parts._replace(netloc=netloc))
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/{name}", scheme="postgresql"))
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if not conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]:
                pytest.fail(f"{base}: not a superuser; set DATABASE_ADMIN_URL to one")
    except psycopg.OperationalError as exc:
        pytest.fail(f"the tamper tests need a superuser: set DATABASE_ADMIN_URL ({exc})")
    return url


@contextmanager
def superuser() -> Iterator[psycopg.Connection]:
    """Autocommit superuser session with user triggers off (the refusals and the capture)."""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn


def seal_all(timeout: float = 20.0) -> seal.SealRun:
    """Seal until every committed event is sealed (holes resolve as their writers finish)."""
    deadline = time.monotonic() + timeout
    while True:
        run = seal.seal()
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_event")
            newest = cursor.fetchone()[0]
        head = seal.current_head()
        if head is not None and head.tree_size >= newest:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"sealing stuck at {run.waiting_at}, newest event {newest}")
        time.sleep(0.05)


def newest_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_event")
        return cursor.fetchone()[0]


def gaps_after(seq: int) -> list[int]:
    """Sequence numbers above `seq` sealed as gaps (rolled-back values)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq FROM audit_seal WHERE kind = 'gap' AND seq > %s ORDER BY seq", [seq]
        )
        return [row[0] for row in cursor.fetchall()]
