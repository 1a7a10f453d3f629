"""Read API under load: `GET /api/v1/me` and `GET /api/v1/units?level=village` on the
full-scale tree, against a bare Django view returning a constant JSON body (the floor).

Three DRF views with constant bodies sit between them, to show where the time goes: DRF
alone, then with the API's authentication (device JWT + session row) and permission, then
with the user throttle as well (bench/floor_urls.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.harness import BenchError, Context, Row, Server, count_queries, fetch, measure

NAME = "api_read"


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    authenticated: bool = True
    rows: int | None = None  # a cursor page: how many results it must hold


FLOOR = Target("bare Django view, constant JSON (floor)", "/bench/floor", authenticated=False)
TARGETS = (
    Target("DRF view, constant, no auth", "/bench/drf", authenticated=False),
    Target("DRF view, constant, JWT auth", "/bench/drf-jwt"),
    Target("DRF view, constant, JWT auth + throttle", "/bench/drf-auth"),
    Target("GET /api/v1/me", "/api/v1/me"),
    Target("GET /api/v1/units?level=village", "/api/v1/units?level=village", rows=50),
    Target(
        "GET /api/v1/units?level=village&page_size=500",
        "/api/v1/units?level=village&page_size=500",
        rows=500,
    ),
)


def _check(server: Server, target: Target, headers: dict[str, str]) -> int:
    """One request before the load: it must succeed and hold what we mean to measure."""
    status, body = fetch(
        "GET", server.base + target.path, headers=headers if target.authenticated else None
    )
    if status != 200:
        raise BenchError(f"GET {target.path} answered {status}: {body[:300]!r}")
    if target.rows is not None:
        results = json.loads(body).get("results", [])
        if len(results) != target.rows:
            raise BenchError(
                f"GET {target.path} returned {len(results)} rows, not "
                f"{target.rows}: is the full-scale tree seeded?"
            )
    return len(body)


def run(ctx: Context) -> list[Row]:
    with Server(ctx) as server:
        token = server.token("planner_city")
        headers = {"Authorization": f"Bearer {token}"}
        everything = (FLOOR, *TARGETS)
        sizes = {t.path: _check(server, t, headers) for t in everything}
        queries = count_queries(ctx, [t.path for t in everything], token)

        def one(target: Target):
            return measure(
                ctx,
                server,
                target.label,
                target.path,
                headers=headers if target.authenticated else None,
                body_bytes=sizes[target.path],
                queries=queries.get(target.path),
            )

        floor = one(FLOOR)
        rows = [Row(NAME, floor, floor)]
        rows += [Row(NAME, one(target), floor) for target in TARGETS]
    return rows
