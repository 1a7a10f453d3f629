"""`python -m bench.queries PATH...` (access token on stdin): SQL queries of one GET each.

Run by the harness in its own process with DJANGO_SETTINGS_MODULE=bench.settings and the
bench database; prints one JSON object {path: count}. Counted: the statements Django runs,
without the BEGIN/COMMIT of ATOMIC_REQUESTS and without the connection health check
(`SELECT 1`, sent straight through psycopg), which are further round trips.
"""

import json
import os
import sys

import django


def main() -> None:
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token = sys.stdin.read().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for path in sys.argv[1:]:
        client.get(path)  # first request: connection, caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        statements = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")
        ]
        counts[path] = len(statements)
        if os.environ.get("BENCH_SHOW_SQL"):
            for sql in statements:
                print(f"{path}: {sql}", file=sys.stderr)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
