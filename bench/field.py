"""Field work: the sync feed at 1,000 and at 100,000 findings, and recording findings under
load, on the full-scale tree.

1. `GET /api/v1/sync` for an inspector (`inspector_a`: their team's visits only) and a city
   planner (`planner_city`: every campaign of the city), first with 1,000 findings, then with
   100,000 (the database grows in place). *Full sync*: from no cursor, following `cursor`
   until `has_more` is false, at the server's default page size. *Incremental sync*: one GET
   with the cursor of a completed sync, after 10 findings both users see were edited in one
   transaction; repeated (edit, then each user syncs) for the measured seconds. The 100,000
   figures carry the 1,000 ones as their floor, and the ratio between them.
2. `POST /api/v1/findings` with client-chosen ids under 16 clients (wrk, a fresh id per
   request), and incremental sync under the same load, against the bare-Django floor in the
   same run on the same server.

The inspector's team holds the same 300 findings at both sizes: the other 700, then 99,700,
belong to 40 other teams, so the inspector's figures show what rows the caller may not see
cost. Everything is inserted with the audit and sync triggers on, attributed to the job
`bench.field`. It leaves about 100,000 findings, their visits and campaigns, 40 teams and
their leads in the bench database, for the modules after it to see.

`BENCH_FIELD_FINDINGS` replaces the 100,000. `python -m bench.field probe` is the in-process
probe the run starts (SQL queries and PostgreSQL buffers of one request); docs/BENCHMARKS.md
describes the method in full.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import psycopg

from bench.harness import (
    ROOT,
    WRK_SCRIPT,
    BenchError,
    Context,
    Row,
    Server,
    _libpq,
    fetch,
    log,
    measure,
)

NAME = "field"
SMALL = 1_000
LARGE = int(os.environ.get("BENCH_FIELD_FINDINGS", "100000"))
PER_VISIT = 10  # findings per visit
TEAM_VISITS = 30  # the inspector's team: 30 closed visits, 300 findings at both sizes
OTHER_TEAMS = 40
PER_CAMPAIGN = 1_000  # visits of other teams per campaign (one per village or community)
CHANGED = 10  # findings edited before each incremental sync
INSPECTOR, PLANNER = "inspector_a", "planner_city"
SYNC = "/api/v1/sync"
AUDIT_CONTEXT = json.dumps({"actor_label": "job:bench.field"})


@dataclass
class Tree:
    """Ids of what the demo seeded and what this benchmark adds to it."""

    city: uuid.UUID
    checklist: uuid.UUID
    items: list[uuid.UUID]
    targets: list[uuid.UUID]  # villages and communities, by code
    users: dict[str, int]
    team_a: uuid.UUID
    teams: list[uuid.UUID] = field(default_factory=list)  # the 40 other teams
    campaigns: list[uuid.UUID] = field(default_factory=list)  # closed, in 2015
    others: int = 0  # visits of other teams so far
    own_findings: list[uuid.UUID] = field(default_factory=list)  # the inspector team's


# --- building the data (SQL, triggers on) --------------------------------------------------


def _connect(ctx: Context) -> psycopg.Connection:
    # Autocommit: each `conn.transaction()` is then a transaction of its own, never a
    # savepoint inside one a previous SELECT left open.
    return psycopg.connect(_libpq(ctx.database_url()), autocommit=True)


def _audited(conn: psycopg.Connection) -> None:
    """Name the job in the trail for the rest of this transaction (audits/trail/context.py)."""
    conn.execute("SELECT set_config('duchaa.audit_ctx', %s, true)", [AUDIT_CONTEXT])


def _tree(conn: psycopg.Connection) -> Tree:
    city = conn.execute("SELECT unit_id FROM audits_user WHERE username = %s", [PLANNER]).fetchone()
    lists = conn.execute(
        "SELECT checklist_id, array_agg(id ORDER BY position)"
        " FROM audits_checklistitem GROUP BY checklist_id"
    ).fetchall()
    if city is None or city[0] is None or len(lists) != 1:
        raise BenchError("the bench database does not hold the seeded demo (seed_demo)")
    targets = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM audits_unit WHERE level IN ('village', 'community') ORDER BY code"
        )
    ]
    if len(targets) < PER_CAMPAIGN + TEAM_VISITS + 1:
        raise BenchError(f"{len(targets)} villages and communities: seed_demo --scale full?")
    users = dict(
        conn.execute(
            "SELECT username, id FROM audits_user WHERE username = ANY(%s)",
            [[INSPECTOR, PLANNER, "lead_a"]],
        ).fetchall()
    )
    team_a = conn.execute(
        "SELECT id FROM audits_team WHERE lead_id = %s", [users["lead_a"]]
    ).fetchone()[0]
    return Tree(
        city=city[0],
        checklist=lists[0][0],
        items=lists[0][1],
        targets=targets,
        users=users,
        team_a=team_a,
    )


def _add_teams(conn: psycopg.Connection, tree: Tree) -> None:
    """40 teams of the city besides the demo's two, each led by a team_lead account."""
    with conn.transaction():
        _audited(conn)
        conn.execute(
            "WITH leads AS ("
            " INSERT INTO audits_user (password, is_superuser, username, first_name, last_name,"
            "  email, is_staff, is_active, date_joined, display_name, roles, unit_id)"
            " SELECT '!', false, 'bench_lead_' || lpad(n::text, 2, '0'), '', '', '', false,"
            "  true, now(), '压测暗访组' || n || '组长', '{team_lead}', %(city)s"
            " FROM generate_series(1, %(n)s::int) n RETURNING id, username),"
            " teams AS ("
            " INSERT INTO audits_team (id, name, version, created_at, updated_at,"
            "  created_by_id, lead_id, owner_unit_id)"
            " SELECT gen_random_uuid(), '压测暗访组' || right(username, 2), 1, now(), now(),"
            "  %(planner)s, id, %(city)s FROM leads RETURNING id, lead_id)"
            " INSERT INTO audits_team_members (team_id, user_id) SELECT id, lead_id FROM teams",
            {"city": tree.city, "n": OTHER_TEAMS, "planner": tree.users[PLANNER]},
        )
    tree.teams = [
        r[0]
        for r in conn.execute(
            "SELECT t.id FROM audits_team t JOIN audits_user u ON u.id = t.lead_id"
            " WHERE u.username LIKE 'bench\\_lead\\_%%' ORDER BY u.username"
        )
    ]


def _ensure_campaigns(conn: psycopg.Connection, tree: Tree, count: int) -> None:
    """Closed campaigns of the city, every five weeks from January 2015, by turns
    unannounced and announced (the article's 暗访 and 明察)."""
    have = len(tree.campaigns)
    if count <= have:
        return
    with conn.transaction():
        _audited(conn)
        rows = conn.execute(
            "INSERT INTO audits_campaign (sync_xid, id, title, mode, starts_on, ends_on, version,"
            " created_at, updated_at, checklist_id, created_by_id, unit_id)"
            " SELECT 0, gen_random_uuid(), '基层党建督查第' || n || '轮（压测）',"
            "  CASE WHEN n %% 2 = 1 THEN 'unannounced' ELSE 'announced' END,"
            "  date '2015-01-05' + (n - 1) * 35, date '2015-01-05' + (n - 1) * 35 + 20, 1,"
            "  now(), now(), %(checklist)s, %(planner)s, %(city)s"
            " FROM generate_series(%(first)s::int, %(last)s::int) n ORDER BY n RETURNING id",
            {
                "checklist": tree.checklist,
                "planner": tree.users[PLANNER],
                "city": tree.city,
                "first": have + 1,
                "last": count,
            },
        ).fetchall()
    tree.campaigns += [r[0] for r in rows]


def _add_visits(
    conn: psycopg.Connection, tree: Tree, plan: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]
) -> list[uuid.UUID]:
    """Closed visits (campaign, target, team), with their findings: PER_VISIT each, in the
    states findings of closed visits end in, mostly published."""
    campaigns, targets, teams = (list(column) for column in zip(*plan, strict=True))
    days = [n % 18 for n in range(len(plan))]
    with conn.transaction():
        _audited(conn)
        # Visit version 4: created, checked in, submitted, closed.
        visits = [
            r[0]
            for r in conn.execute(
                "INSERT INTO audits_visit (sync_xid, id, window_start, window_end, status, drawn,"
                " checked_in_at, checkin_lat, checkin_lon, checkin_accuracy_m, checkin_distance_m,"
                " checkin_far, submitted_at, closed_at, cancelled_at, version, created_at,"
                " updated_at, campaign_id, target_id, team_id)"
                " SELECT 0, gen_random_uuid(), w.start,"
                " w.start + interval '21 days' - interval '1s',"
                "  'closed', true, w.start + v.day * interval '1 day' + interval '9 hours',"
                "  u.lat, u.lon, 12, 40, false,"
                "  w.start + v.day * interval '1 day' + interval '15 hours',"
                "  w.start + interval '25 days', NULL, 4, now(), now(),"
                "  v.campaign, v.target, v.team"
                " FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::int[])"
                "  AS v(campaign, target, team, day)"
                " JOIN audits_campaign c ON c.id = v.campaign"
                " JOIN audits_unit u ON u.id = v.target"
                " CROSS JOIN LATERAL (SELECT c.starts_on::timestamp AT TIME ZONE 'Asia/Shanghai'"
                "  AS start) w RETURNING id",
                [campaigns, targets, teams, days],
            )
        ]
        # 60 % published, 25 % verified, 10 % dismissed, 5 % rectification submitted; 60 %
        # minor, 30 % major, 10 % serious; the checklist's items in turn.
        conn.execute(
            "INSERT INTO audits_finding (sync_xid, id, severity, title, description,"
            " measured_value, observed_at, status, rectify_by, published_at, version,"
            " created_at, updated_at, checklist_item_id, created_by_id, responsible_unit_id,"
            " visit_id)"
            " SELECT 0, gen_random_uuid(),"
            "  CASE WHEN r.h / 20 %% 10 < 6 THEN 'minor' WHEN r.h / 20 %% 10 < 9 THEN 'major'"
            "  ELSE 'serious' END,"
            "  left(u.name || '：' || i.text, 60),"
            "  '现场核查（压测数据）：' || u.name || '，' || i.code || ' ' || i.text"
            "  || '。未达到标准，相关资料不全。',"
            "  CASE WHEN i.threshold IS NOT NULL"
            "  THEN round(i.threshold * (30 + r.h %% 60) / 100, 2) END,"
            "  v.checked_in_at + k * interval '11 minutes', s.status,"
            "  CASE WHEN s.status <> 'dismissed' THEN (v.closed_at + interval '30 days')::date"
            "  END,"
            "  CASE WHEN s.status <> 'dismissed' THEN v.closed_at + interval '1 day' END,"
            "  CASE s.status WHEN 'dismissed' THEN 3 WHEN 'published' THEN 4"
            "  WHEN 'rectification_submitted' THEN 5 ELSE 6 END,"
            "  now(), now(), i.id, t.lead_id, v.target_id, v.id"
            " FROM audits_visit v"
            " JOIN audits_team t ON t.id = v.team_id"
            " JOIN audits_unit u ON u.id = v.target_id"
            " CROSS JOIN generate_series(0, %(per)s::int - 1) k"
            " CROSS JOIN LATERAL (SELECT abs(hashtext(v.id::text || ':' || k)) AS h) r"
            " CROSS JOIN LATERAL (SELECT CASE WHEN r.h %% 20 < 12 THEN 'published'"
            "  WHEN r.h %% 20 < 17 THEN 'verified' WHEN r.h %% 20 < 19 THEN 'dismissed'"
            "  ELSE 'rectification_submitted' END AS status) s"
            " JOIN audits_checklistitem i ON i.checklist_id = %(checklist)s"
            "  AND i.position = 1 + (abs(hashtext(v.id::text)) + k) %% %(items)s::int"
            " WHERE v.id = ANY(%(visits)s)",
            {
                "per": PER_VISIT,
                "checklist": tree.checklist,
                "items": len(tree.items),
                "visits": visits,
            },
        )
    return visits


def _prepare(conn: psycopg.Connection) -> Tree:
    """The other teams, the campaigns, and the inspector's team's own closed visits."""
    started = time.monotonic()
    tree = _tree(conn)
    _add_teams(conn, tree)
    _ensure_campaigns(conn, tree, 10)
    own = [
        (tree.campaigns[k % 10], tree.targets[PER_CAMPAIGN + k], tree.team_a)
        for k in range(TEAM_VISITS)
    ]
    visits = _add_visits(conn, tree, own)
    tree.own_findings = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM audits_finding WHERE visit_id = ANY(%s) ORDER BY id", [visits]
        )
    ]
    log(
        f"added {OTHER_TEAMS} teams, {len(tree.campaigns)} campaigns and the inspector's "
        f"{TEAM_VISITS} visits: {time.monotonic() - started:.1f} s"
    )
    return tree


def _grow(conn: psycopg.Connection, tree: Tree, findings: int) -> None:
    """Other teams' closed visits and findings, until the database holds `findings`
    (the open visit's aside): one visit per village or community per campaign."""
    if (findings - TEAM_VISITS * PER_VISIT) % PER_VISIT:
        raise BenchError(f"{findings} findings is not a whole number of visits")
    wanted = (findings - TEAM_VISITS * PER_VISIT) // PER_VISIT
    if wanted <= tree.others:
        return
    started = time.monotonic()
    _ensure_campaigns(conn, tree, max(10, -(-wanted // PER_CAMPAIGN)))
    plan = [
        (
            tree.campaigns[j // PER_CAMPAIGN],
            tree.targets[j % PER_CAMPAIGN],
            tree.teams[j % len(tree.teams)],
        )
        for j in range(tree.others, wanted)
    ]
    for first in range(0, len(plan), PER_CAMPAIGN):  # a transaction per 10,000 findings
        _add_visits(conn, tree, plan[first : first + PER_CAMPAIGN])
    tree.others = wanted
    built = time.monotonic() - started
    # Fresh statistics and visibility map, as autovacuum would leave them in production: a
    # just-loaded table otherwise gets plans for an empty one and sets hint bits on reads.
    conn.execute(
        "VACUUM (ANALYZE) audits_finding, audits_visit, audits_campaign,"
        " audits_team, audits_team_members, audits_user"
    )
    have = conn.execute("SELECT count(*) FROM audits_finding").fetchone()[0]
    events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    log(
        f"findings now {have:,} ({len(plan) * PER_VISIT:,} added in {built:.1f} s with the "
        f"triggers on, then VACUUM ANALYZE: {time.monotonic() - started:.1f} s); "
        f"{events:,} audit events"
    )


def _visible_findings(conn: psycopg.Connection, tree: Tree) -> dict[str, int]:
    """What a full sync must send each user (audits/visibility.py, for these two): the
    inspector, every finding of their teams' visits not cancelled; the city planner, every
    finding but drafts (the whole tree is theirs)."""
    inspector = conn.execute(
        "SELECT count(*) FROM audits_finding f JOIN audits_visit v ON v.id = f.visit_id"
        " WHERE v.status <> 'cancelled' AND v.team_id IN (SELECT t.id FROM audits_team t"
        "  LEFT JOIN audits_team_members m ON m.team_id = t.id"
        "  WHERE t.lead_id = %(user)s OR m.user_id = %(user)s)",
        {"user": tree.users[INSPECTOR]},
    ).fetchone()[0]
    planner = conn.execute(
        "SELECT count(*) FROM audits_finding WHERE status <> 'draft'"
    ).fetchone()[0]
    return {INSPECTOR: inspector, PLANNER: planner}


def _edit(conn: psycopg.Connection, ids: list[uuid.UUID], n: int) -> None:
    """One transaction editing `ids` (a new measured value, a new version), audited."""
    with conn.transaction():
        _audited(conn)
        conn.execute(
            "UPDATE audits_finding SET measured_value = %s, version = version + 1,"
            " updated_at = now() WHERE id = ANY(%s)",
            [100 + n % 9000, ids],
        )


def _in_range(conn: psycopg.Connection) -> int:
    """Findings a cursor taken now would range over (`sync_xid >= xmin`): a transaction
    left open anywhere on the server holds xmin back and widens it."""
    return conn.execute(
        "SELECT count(*) FROM audits_finding"
        " WHERE sync_xid >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    ).fetchone()[0]


# --- the open visit, through the API -------------------------------------------------------


def _post(server: Server, headers: dict[str, str], path: str, body: dict) -> dict:
    status, answer = fetch("POST", server.base + path, body=body, headers=headers)
    if status not in (200, 201):
        raise BenchError(f"POST {path} answered {status}: {answer[:300]!r}")
    return json.loads(answer)


def _open_visit(
    conn: psycopg.Connection, server: Server, tree: Tree, auth: dict[str, dict[str, str]]
) -> uuid.UUID:
    """A current unannounced campaign and a visit of the inspector's team, checked in at
    the target: what the inspector records findings on."""
    today = datetime.now(UTC).date()
    target = tree.targets[PER_CAMPAIGN + TEAM_VISITS]
    lat, lon = conn.execute("SELECT lat, lon FROM audits_unit WHERE id = %s", [target]).fetchone()
    campaign = _post(
        server,
        auth[PLANNER],
        "/api/v1/campaigns",
        {
            "title": "基层党建暗访（压测，进行中）",
            "mode": "unannounced",
            "unit": str(tree.city),
            "starts_on": str(today - timedelta(days=1)),
            "ends_on": str(today + timedelta(days=30)),
            "checklist": str(tree.checklist),
        },
    )
    visit = _post(
        server,
        auth[PLANNER],
        "/api/v1/visits",
        {"campaign": campaign["id"], "target": str(target), "team": str(tree.team_a)},
    )
    visit = _post(
        server,
        auth[INSPECTOR],
        f"/api/v1/visits/{visit['id']}/check-in",
        {
            "lat": float(lat),
            "lon": float(lon),
            "accuracy_m": 10,
            "at": datetime.now(UTC).isoformat(),
        },
    )
    if visit["status"] != "in_progress":
        raise BenchError(f"the open visit is {visit['status']}, not in progress")
    return uuid.UUID(visit["id"])


# --- sync ----------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def _sync_path(cursor: str | None) -> str:
    return SYNC if cursor is None else f"{SYNC}?cursor={quote(cursor, safe='')}"


def _get(server: Server, headers: dict[str, str], cursor: str | None) -> tuple[float, dict]:
    """One sync request: (seconds from sending to the whole body read, the answer)."""
    started = time.perf_counter()
    status, body = fetch("GET", server.base + _sync_path(cursor), headers=headers, timeout=120)
    seconds = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"GET {SYNC} answered {status}: {body[:300]!r}")
    return seconds, json.loads(body)


@dataclass
class FullSync:
    seconds: float  # sum of the page requests (the client's own JSON parsing left out)
    pages: list[float]
    rows: int
    findings: int
    cursor: str  # the completed sync's: the next incremental sync starts here
    deep: str | None  # a cursor in the middle of the findings, for counting queries


def _full_sync(server: Server, headers: dict[str, str]) -> FullSync:
    pages: list[float] = []
    rows = findings = 0
    cursor, deep = None, None
    while True:
        seconds, answer = _get(server, headers, cursor)
        pages.append(seconds)
        changes = answer["changes"]
        rows += sum(len(kind) for kind in changes.values())
        findings += len(changes["findings"])
        only_findings = changes["findings"] and not any(
            rows_of_kind for kind, rows_of_kind in changes.items() if kind != "findings"
        )
        if deep is None and cursor is not None and only_findings and answer["has_more"]:
            deep = cursor
        cursor = answer["cursor"]
        if not answer["has_more"]:
            return FullSync(sum(pages), pages, rows, findings, cursor, deep)
        if len(pages) > 100_000:
            raise BenchError("a full sync that never ends: has_more stays true")


def _full_syncs(
    server: Server, headers: dict[str, str], seconds: float, findings: int
) -> list[FullSync]:
    """Full syncs one after another for `seconds` (at least one, at most 20)."""
    runs: list[FullSync] = []
    started = time.monotonic()
    while not runs or (time.monotonic() - started < seconds and len(runs) < 20):
        done = _full_sync(server, headers)
        if done.findings != findings:
            raise BenchError(f"a full sync sent {done.findings:,} findings, not {findings:,}")
        runs.append(done)
    return runs


def _check_incremental(user: str, answer: dict, ids: list[uuid.UUID]) -> None:
    """An incremental answer must hold the edited findings and nothing else."""
    sent = {row["id"] for row in answer["changes"]["findings"]}
    others = {
        kind: len(rows) for kind, rows in answer["changes"].items() if kind != "findings" and rows
    }
    if (
        sent != {str(i) for i in ids}
        or others
        or answer["removed"]
        or answer["has_more"]
        or answer["reset"]
    ):
        raise BenchError(
            f"incremental sync for {user} sent {len(sent)} findings, {others}, "
            f"removed {answer['removed'][:3]}, has_more {answer['has_more']}, "
            f"reset {answer['reset']}; expected exactly the {len(ids)} edited"
        )


class Edits:
    """Batches of CHANGED findings of the inspector's team (which the planner sees too),
    taken in turn, each edited in its own transaction."""

    def __init__(self, conn: psycopg.Connection, ids: list[uuid.UUID]) -> None:
        self.conn, self.ids, self.done = conn, ids, 0

    def next(self) -> list[uuid.UUID]:
        start = (self.done * CHANGED) % len(self.ids)
        batch = self.ids[start : start + CHANGED]
        _edit(self.conn, batch, self.done)
        self.done += 1
        return batch


def _incremental(
    server: Server,
    edits: Edits,
    auth: dict[str, dict[str, str]],
    cursors: dict[str, str],
    seconds: float,
) -> dict[str, list[float]]:
    """Rounds of: edit CHANGED findings, then each user syncs from their last cursor."""
    times: dict[str, list[float]] = {user: [] for user in cursors}
    started, rounds = time.monotonic(), 0
    while rounds < 20 or (time.monotonic() - started < seconds and rounds < 5000):
        batch = edits.next()
        for user in cursors:
            took, answer = _get(server, auth[user], cursors[user])
            _check_incremental(user, answer, batch)
            times[user].append(took)
            cursors[user] = answer["cursor"]
        rounds += 1
    return times


@dataclass
class Phase:
    """What one database size gave, per user."""

    findings: int
    full: dict[str, list[FullSync]]
    incremental: dict[str, list[float]]
    probes: dict[str, Probe]  # "<user> incremental", "<user> findings page"
    cursors: dict[str, str]  # before the last edit: an incremental sync of CHANGED rows


def _phase(
    ctx: Context,
    conn: psycopg.Connection,
    server: Server,
    tree: Tree,
    tokens: dict[str, str],
    findings: int,
) -> Phase:
    seconds = ctx.options.seconds
    auth = {user: {"Authorization": f"Bearer {token}"} for user, token in tokens.items()}
    expect = _visible_findings(conn, tree)
    full = {}
    for user in (INSPECTOR, PLANNER):
        # A third of the time: a run is many requests already, and the large one is long.
        log(f"full sync as {user}, {findings:,} findings, for {seconds / 3:.0f} s (at least once)")
        full[user] = _full_syncs(server, auth[user], seconds / 3, expect[user])
    cursors = {user: runs[-1].cursor for user, runs in full.items()}
    wide = _in_range(conn)
    if wide > 10 * CHANGED:
        log(
            f"warning: a cursor taken now ranges over {wide:,} findings (sync_xid >= xmin): "
            "a transaction open elsewhere on the server holds xmin back; incremental "
            "figures then grow with what was written since it began"
        )
    log(f"incremental sync, {findings:,} findings, for {seconds} s (at least 20 rounds)")
    edits = Edits(conn, tree.own_findings)
    times = _incremental(server, edits, auth, cursors, seconds)
    # One more edit, left unsynced: every GET with these cursors now answers CHANGED rows.
    last = edits.next()
    for user in cursors:
        _check_incremental(user, _get(server, auth[user], cursors[user])[1], last)
    probes: dict[str, Probe] = {}
    for user in (INSPECTOR, PLANNER):
        wanted = {f"{user} incremental": _sync_path(cursors[user])}
        if full[user][-1].deep is not None:
            wanted[f"{user} findings page"] = _sync_path(full[user][-1].deep)
        found = _probe(ctx, tokens[user], [{"method": "GET", "path": p} for p in wanted.values()])
        probes.update(zip(wanted, found, strict=False))
    return Phase(findings, full, times, probes, dict(cursors))


# --- POST /findings under load (wrk with a request script) --------------------------------

POST_SCRIPT = """
-- A fresh client-chosen id per request: the run's nonce, the thread, a random part and the
-- thread's counter, so no two requests of any run share one.
local visit = "__VISIT__"
local items = {__ITEMS__}
local observed = "__OBSERVED__"
local nonce = "__NONCE__"
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(tid * 104729 + os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local id = string.format("%s-%04x-4%03x-%04x-%012x", nonce, tid, math.random(0, 4095),
                           32768 + math.random(0, 16383), counter)
  local body = string.format('{"id":"%s","visit":"%s","checklist_item":"%s",' ..
    '"severity":"minor","title":"村级活动场所面积不足","description":' ..
    '"现场测量约150平方米，未达到200平方米的标准。","observed_at":"%s"}',
    id, visit, items[counter % #items + 1], observed)
  return wrk.format(nil, nil, nil, body)
end
"""


def _post_script(ctx: Context, tree: Tree, visit: uuid.UUID) -> str:
    """The request script, a new nonce each time (the warm-up and the measured run are two
    wrk processes), with wrk's summary hook of the harness."""
    text = (
        POST_SCRIPT.replace("__VISIT__", str(visit))
        .replace("__ITEMS__", ", ".join(f'"{item}"' for item in tree.items))
        .replace("__OBSERVED__", datetime.now(UTC).isoformat(timespec="seconds"))
        .replace("__NONCE__", secrets.token_hex(4))
    )
    path = ctx.workdir / f"post-{secrets.token_hex(4)}.lua"
    path.write_text(text + WRK_SCRIPT)
    return str(path)


def _finding_body(tree: Tree, visit: uuid.UUID) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "visit": str(visit),
        "checklist_item": str(tree.items[0]),
        "severity": "minor",
        "title": "村级活动场所面积不足",
        "description": "现场测量约150平方米，未达到200平方米的标准。",
        "observed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Probe:
    """One request replayed in-process: its SQL, and what PostgreSQL did for it."""

    queries: int  # counted as bench/queries.py counts them
    buffers: int  # shared buffers its SELECTs touch (EXPLAIN ANALYZE), whatever the load


def _probe(ctx: Context, token: str, requests: list[dict]) -> list[Probe]:
    """`python -m bench.field probe` in its own process, as harness.count_queries does."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": ctx.database_url(),
        "ALLOWED_HOSTS": "testserver",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_ANON": "1000000/min",
        "JWT_ACCESS_MINUTES": "120",
        "CACHE_KEY_PREFIX": f"duchaa-bench-{os.getpid()}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.field", "probe"],
        cwd=ROOT,
        env=env,
        input=json.dumps({"token": token, "requests": requests}),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        log(f"could not probe: {(done.stderr or done.stdout).strip()[-500:]}")
        return []
    if os.environ.get("BENCH_SHOW_SQL"):
        sys.stderr.write(done.stderr)
    return [Probe(**found) for found in json.loads(done.stdout.strip().splitlines()[-1])]


# --- the figures ---------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _figures(small: Phase, large: Phase) -> list[dict]:
    """Each figure at both sizes; the large one with the small one as floor, and the ratio."""
    out: list[dict] = []

    def pair(name: str, unit: str, low: float, high: float) -> None:
        out.append({"name": name.format(size=f"{small.findings:,}"), "value": low, "unit": unit})
        out.append(
            {
                "name": name.format(size=f"{large.findings:,}"),
                "value": high,
                "unit": unit,
                "floor": low,
                "ratio": round(high / low, 2) if low else None,
            }
        )

    def pages(phase: Phase, user: str) -> list[float]:
        return [p for run in phase.full[user] for p in run.pages]

    def per_sync(phase: Phase, user: str) -> float:
        return round(statistics.median(run.seconds for run in phase.full[user]), 3)

    def shape(phase: Phase, user: str) -> str:
        runs = phase.full[user]
        return f"{len(runs[-1].pages)} pages, {runs[-1].rows:,} rows, median of {len(runs)}"

    for user in (INSPECTOR, PLANNER):
        out.append(
            {
                "name": f"full sync, {user}, {small.findings:,} findings: time per sync "
                f"({shape(small, user)})",
                "value": per_sync(small, user),
                "unit": "s",
            }
        )
        low, high = per_sync(small, user), per_sync(large, user)
        out.append(
            {
                "name": f"full sync, {user}, {large.findings:,} findings: time per sync "
                f"({shape(large, user)})",
                "value": high,
                "unit": "s",
                "floor": low,
                "ratio": round(high / low, 2) if low else None,
            }
        )
        for p in (50, 99):
            pair(
                f"full sync, {user}, {{size}} findings: page p{p}",
                "ms",
                _ms(_percentile(pages(small, user), p)),
                _ms(_percentile(pages(large, user), p)),
            )
        for p in (50, 99):
            pair(
                f"incremental sync ({CHANGED} changed), {user}, {{size}} findings: p{p}",
                "ms",
                _ms(_percentile(small.incremental[user], p)),
                _ms(_percentile(large.incremental[user], p)),
            )
    for key, label in (
        (f"{INSPECTOR} incremental", f"incremental sync, {INSPECTOR}"),
        (f"{PLANNER} incremental", f"incremental sync, {PLANNER}"),
        (f"{PLANNER} findings page", f"full sync, a page of findings, {PLANNER}"),
    ):
        if key not in small.probes or key not in large.probes:
            continue
        # Buffers of a whole page are left out: at 1,000 findings PostgreSQL hashes the small
        # tables, at 100,000 it follows indexes row by row; per row both stay flat.
        measures = (("SQL queries", "queries"), ("PostgreSQL buffers", "buffers"))
        for what, unit in measures[:1] if key.endswith("page") else measures:
            low, high = (getattr(phase.probes[key], unit) for phase in (small, large))
            out.append(
                {
                    "name": f"{what} per request, {label}, {large.findings:,} findings "
                    f"(floor: {small.findings:,})",
                    "value": high,
                    "unit": unit,
                    "floor": low,
                    "ratio": round(high / low, 2) if low else None,
                }
            )
    return out


# --- the run -------------------------------------------------------------------------------


def run(ctx: Context) -> list[Row | dict]:
    if LARGE <= SMALL:
        raise BenchError(f"BENCH_FIELD_FINDINGS={LARGE}: more than {SMALL:,}, please")
    conn = _connect(ctx)
    try:
        tree = _prepare(conn)
        with Server(ctx) as server:
            tokens = {user: server.token(user) for user in (INSPECTOR, PLANNER)}
            auth = {user: {"Authorization": f"Bearer {token}"} for user, token in tokens.items()}
            visit = _open_visit(conn, server, tree, auth)
            phases = []
            for size in (SMALL, LARGE):
                _grow(conn, tree, size)
                phases.append(_phase(ctx, conn, server, tree, tokens, size))
            small, large = phases
            figures = _figures(small, large)
            for figure in figures:
                log(f"{figure['name']}: {figure['value']} {figure['unit']}")

            floor = measure(
                ctx,
                server,
                "bare Django view, constant JSON (floor)",
                "/bench/floor",
                body_bytes=len(fetch("GET", server.base + "/bench/floor")[1]),
                queries=0,
            )
            rows = [Row(NAME, floor, floor)]
            # Under load: every request answers the CHANGED findings of the last edit.
            for user in (PLANNER, INSPECTOR):
                path = _sync_path(large.cursors[user])
                size = len(fetch("GET", server.base + path, headers=auth[user])[1])
                rows.append(
                    Row(
                        NAME,
                        measure(
                            ctx,
                            server,
                            f"GET {SYNC} incremental ({CHANGED} changed), {user}, "
                            f"{large.findings:,} findings",
                            path,
                            headers=auth[user],
                            body_bytes=size,
                            queries=getattr(
                                large.probes.get(f"{user} incremental"), "queries", None
                            ),
                        ),
                        floor,
                    )
                )

            status, answer = fetch(
                "POST",
                server.base + "/api/v1/findings",
                body=_finding_body(tree, visit),
                headers=auth[INSPECTOR],
            )
            if status != 201:
                raise BenchError(f"POST /api/v1/findings answered {status}: {answer[:300]!r}")
            post = measure(
                ctx,
                server,
                f"POST /api/v1/findings, {INSPECTOR}, a new id each",
                "/api/v1/findings",
                headers=auth[INSPECTOR],
                body_bytes=len(answer),
                script=lambda: _post_script(ctx, tree, visit),
            )
            sent = post.warmup_requests + post.requests
            made = conn.execute(
                "SELECT count(*) FROM audits_finding WHERE visit_id = %s", [visit]
            ).fetchone()[0]
            # wrk counts the answers it read; each run's last requests in flight are
            # answered (and committed) after it stopped reading: up to one per connection.
            if not sent + 1 <= made <= sent + 1 + 2 * ctx.options.connections:
                raise BenchError(
                    f"{sent + 1:,} POSTs answered, but {made:,} findings on the "
                    "visit: were some not created, or created twice?"
                )
            probed = _probe(
                ctx,
                tokens[INSPECTOR],
                [
                    {
                        "method": "POST",
                        "path": "/api/v1/findings",
                        "body": _finding_body(tree, visit),
                    }
                ],
            )
            if probed:
                post = replace(post, queries=probed[0].queries)
            rows.append(Row(NAME, post, floor))
    finally:
        conn.close()
    return [*rows, *figures]


def _probe_main() -> None:
    """`python -m bench.field probe`, {token, requests: [{method, path, body?}]} on stdin:
    each request once to warm up, then once measured; prints [{queries, buffers}]."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    given = json.loads(sys.stdin.read())
    client = Client(HTTP_AUTHORIZATION=f"Bearer {given['token']}")
    found = []
    for request in given["requests"]:

        def send(request: dict = request):
            if request["method"] == "GET":
                return client.get(request["path"])
            body = {**request["body"], "id": str(uuid.uuid4())}  # a new finding each time
            return client.post(request["path"], body, content_type="application/json")

        send()
        with CaptureQueriesContext(connection) as captured:
            response = send()
        if response.status_code not in (200, 201):
            raise SystemExit(
                f"{request['method']} {request['path'][:80]} answered {response.status_code}"
            )
        statements = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")
        ]
        buffers = 0
        if request["method"] == "GET":  # reads only: running them again changes nothing
            with connection.cursor() as cursor:
                for sql in statements:
                    if sql.lstrip().upper().startswith("SELECT"):
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                        plan = cursor.fetchone()[0][0]["Plan"]
                        used = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
                        buffers += used
                        if os.environ.get("BENCH_SHOW_SQL"):
                            print(f"{used:6d} buffers: {sql[:160]}", file=sys.stderr)
        found.append({"queries": len(statements), "buffers": buffers})
    print(json.dumps(found))


if __name__ == "__main__":
    if sys.argv[1:] == ["probe"]:
        _probe_main()
    else:
        raise SystemExit("usage: python -m bench.field probe (run by the benchmark)")
