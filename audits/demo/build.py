"""Build the demo: the 宿州市 tree, officials and positions, demo accounts, teams, checklist.

`build_demo(scale)` is what `manage.py seed_demo` runs; tests and benchmarks call it too.

Everything is planned first, deterministically (seeded per unit code, so a unit's name,
coordinates and officials do not depend on the scale or on what else is built), then only what
is missing is inserted, in bulk. Existing rows are never saved again: every UPDATE is an audit
event, and running the build twice must change nothing. The demo scale is a subset of the
full scale (same codes, same names), so `full` after `demo` only adds what is missing.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count

from audits.choices import Level, Role, Title
from audits.demo import suzhou as data
from audits.models import Checklist, ChecklistItem, Official, Position, Team, Unit, User

SCALES = ("demo", "full")
BATCH = 1000

CHECKLIST_TITLE = "2015年度基层党建重点工作"
TEAM_A = "第一暗访组"
TEAM_B = "第二暗访组"
XIAO = "341322"


# --------------------------------------------------------------------------------------------
# Plan: what the demo consists of (pure, no database)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    level: str
    parent: str | None
    lat: Decimal
    lon: Decimal
    area: str | None = None  # code of the county or zone it lies in
    kind: str = ""  # for townships: street, seat, town or xiang


@dataclass(frozen=True)
class AccountSpec:
    username: str
    display_name: str
    roles: tuple[str, ...]
    unit: str  # code of the home unit
    note: str = ""
    is_staff: bool = False
    is_superuser: bool = False


@dataclass
class OfficialSpec:
    name: str
    positions: list[tuple[str, date, date | None]] = field(default_factory=list)
    user: str | None = None  # username of the account linked to this official


def _rng(purpose: str, key: str) -> random.Random:
    # Demo data, not security: a reproducible generator per purpose and unit.
    return random.Random(f"{purpose}:{key}")  # noqa: S311


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The box intersected with the city's bounding box, a little inside its edges."""
    margin = 0.005
    lat_min, lat_max, lon_min, lon_max = data.BBOX
    return (
        max(box[0], lat_min + margin),
        min(box[1], lat_max - margin),
        max(box[2], lon_min + margin),
        min(box[3], lon_max - margin),
    )


def _coord(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _point(
    code: str, centre: tuple[float, float], sd: float, box: tuple[float, float, float, float]
) -> tuple[Decimal, Decimal]:
    """A seeded point around `centre` (a degree of longitude is shorter here), inside `box`."""
    rng = _rng("geo", code)
    lat_min, lat_max, lon_min, lon_max = _box(box)
    for _ in range(50):  # redraw rather than pile points up on the edges of the box
        lat, lon = rng.gauss(centre[0], sd), rng.gauss(centre[1], sd * 1.2)
        if lat_min <= lat <= lat_max and lon_min <= lon <= lon_max:
            break
    lat, lon = _clamp(lat, lat_min, lat_max), _clamp(lon, lon_min, lon_max)
    return _coord(lat), _coord(lon)


def _apportion(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split `total` in proportion to `weights` exactly (largest remainder, ties by key)."""
    whole = sum(weights.values())
    quotas = {key: weight * total / whole for key, weight in weights.items()}
    shares = {key: int(quota) for key, quota in quotas.items()}
    rest = total - sum(shares.values())
    for key in sorted(quotas, key=lambda k: (shares[k] - quotas[k], k))[:rest]:
        shares[key] += 1
    return shares


def _township_codes(area: data.Area) -> list[tuple[str, str, str]]:
    """(code, name, kind) of the area's townships: streets 0xx, towns 1xx, 乡 2xx."""
    next_number = {data.STREET: 1, data.SEAT: 100, data.TOWN: 100, data.XIANG: 200}
    out = []
    for name, kind in area.townships:
        group = data.TOWN if kind == data.SEAT else kind
        number = next_number[group]
        next_number[group] += 1
        out.append((f"{area.code}{number:03d}", name, kind))
    return out


@cache
def full_allocation() -> dict[str, tuple[int, int]]:
    """Township code → (communities, villages) at the real scale: 99 and 1,210 in all."""
    village_w, community_w = {}, {}
    for area in data.AREAS:
        for code, _name, kind in _township_codes(area):
            rng = _rng("size", code)
            village_w[code] = data.VILLAGE_WEIGHT[kind] * rng.uniform(0.7, 1.3)
            community_w[code] = data.COMMUNITY_WEIGHT[kind] * rng.uniform(0.7, 1.3)
    villages = _apportion(village_w, data.FULL_VILLAGES)
    communities = _apportion(community_w, data.FULL_COMMUNITIES)
    return {code: (communities[code], villages[code]) for code in village_w}


def _village_names(township: str, count: int) -> list[str]:
    """The first `count` village names of a township: the same prefix whatever `count`."""
    rng = _rng("village", township)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        prefix = rng.choice(data.VILLAGE_PREFIXES) if rng.random() < 0.2 else ""
        name = f"{prefix}{rng.choice(data.VILLAGE_SURNAMES)}{rng.choice(data.VILLAGE_SUFFIXES)}村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _community_names(township: str, count: int) -> list[str]:
    pool = list(data.COMMUNITY_NAMES)
    _rng("community", township).shuffle(pool)
    names = [f"{word}社区" for word in pool[:count]]
    names += [f"第{n}社区" for n in range(len(names) + 1, count + 1)]
    return names


def plan_units(scale: str = "demo") -> list[UnitSpec]:
    """Every unit of the scale, parents before children."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")
    allocation = full_allocation()
    city_lat, city_lon = data.CITY_SEAT
    units = [
        UnitSpec(
            data.CITY_CODE, data.CITY_NAME, Level.CITY, None, _coord(city_lat), _coord(city_lon)
        )
    ]
    townships: list[tuple[data.Area, UnitSpec]] = []
    for area in data.AREAS:
        units.append(
            UnitSpec(
                area.code,
                area.name,
                area.level,
                data.CITY_CODE,
                _coord(area.seat[0]),
                _coord(area.seat[1]),
                area=area.code,
            )
        )
        for code, name, kind in _township_codes(area):
            if scale == "demo" and name not in area.demo:
                continue
            if kind == data.SEAT:
                sd = 0.004
            elif kind == data.STREET:
                sd = min(0.025, area.spread)
            else:
                sd = area.spread
            lat, lon = _point(code, area.seat, sd, area.box)
            spec = UnitSpec(code, name, Level.TOWNSHIP, area.code, lat, lon, area.code, kind)
            units.append(spec)
            townships.append((area, spec))
    for area, town in townships:
        n_communities, n_villages = allocation[town.code]
        if scale == "demo":
            n_communities = min(n_communities, data.DEMO_COMMUNITIES_PER_TOWNSHIP)
            n_villages = min(n_villages, data.DEMO_VILLAGES_PER_TOWNSHIP)
        centre = (float(town.lat), float(town.lon))
        for n, name in enumerate(_community_names(town.code, n_communities), start=1):
            code = f"{town.code}{n:03d}"
            lat, lon = _point(code, centre, 0.008, area.box)
            units.append(UnitSpec(code, name, Level.COMMUNITY, town.code, lat, lon, area.code))
        for n, name in enumerate(_village_names(town.code, n_villages), start=201):
            code = f"{town.code}{n:03d}"
            lat, lon = _point(code, centre, 0.03, area.box)
            units.append(UnitSpec(code, name, Level.VILLAGE, town.code, lat, lon, area.code))
    return units


def _person(rng: random.Random) -> str:
    given = rng.choice(data.GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(data.GIVEN_CHARS)
    return rng.choice(data.SURNAMES) + given


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


_EARLIEST = date(2010, 1, 1)
_LATEST_START = date(2015, 3, 31)  # everyone in post is in post for the 2015 campaigns


def plan_officials(unit: UnitSpec) -> list[OfficialSpec]:
    """The officials of one unit and their positions there, some with an ended predecessor."""
    rng = _rng("people", unit.code)
    officials: list[OfficialSpec] = []

    def post(title: str, *, predecessor: float = 0.0, user: str | None = None) -> OfficialSpec:
        """The current holder of `title`; with that probability, an earlier holder too."""
        if rng.random() < predecessor:
            start = _day(rng, _EARLIEST, date(2011, 12, 31))
            end = _day(rng, date(2012, 3, 1), date(2014, 12, 31))
            officials.append(OfficialSpec(_person(rng), [(title, start, end)]))
            current = end + timedelta(days=1)
        else:
            current = _day(rng, _EARLIEST, _LATEST_START)
        holder = OfficialSpec(_person(rng), [(title, current, None)], user=user)
        officials.append(holder)
        return holder

    if unit.level == Level.CITY:
        post(Title.PARTY_SECRETARY, predecessor=1.0, user="leader_city")
        post(Title.DEPUTY_SECRETARY)
        post(Title.DEPUTY_SECRETARY)
        post(Title.ORG_DEPARTMENT_HEAD, predecessor=1.0)
    elif unit.level == Level.COUNTY:
        user = "leader_xiao" if unit.code == XIAO else None
        post(Title.PARTY_SECRETARY, predecessor=0.5, user=user)
        post(Title.DEPUTY_SECRETARY)
        post(Title.ORG_DEPARTMENT_HEAD, predecessor=0.5)
    elif unit.level == Level.ZONE:
        post(Title.PARTY_SECRETARY, predecessor=0.3)
        post(Title.DEPUTY_SECRETARY)
    elif unit.level == Level.TOWNSHIP:
        area = next(a for a in data.AREAS if a.code == unit.area)
        if rng.random() < 0.15:
            # Promoted: the secretary was the organisation committee member before.
            promoted_on = _day(rng, date(2012, 1, 1), _LATEST_START)
            start = _day(rng, _EARLIEST, date(2011, 6, 30))
            secretary = OfficialSpec(
                _person(rng),
                [
                    (Title.ORG_COMMITTEE_MEMBER, start, promoted_on - timedelta(days=1)),
                    (Title.PARTY_SECRETARY, promoted_on, None),
                ],
            )
            officials.append(secretary)
            officials.append(
                OfficialSpec(_person(rng), [(Title.ORG_COMMITTEE_MEMBER, promoted_on, None)])
            )
            post(Title.DEPUTY_SECRETARY)
        else:
            post(Title.PARTY_SECRETARY, predecessor=0.3)
            post(Title.DEPUTY_SECRETARY)
            post(Title.ORG_COMMITTEE_MEMBER, predecessor=0.2)
        # STAFF-1: every township should have an organisation clerk; a few have none.
        if unit.name in area.clerk_left:
            start = _day(rng, _EARLIEST, date(2013, 12, 31))
            officials.append(
                OfficialSpec(
                    _person(rng),
                    [
                        (Title.ORG_CLERK, start, date(2015, 2, 28)),
                    ],
                )
            )
        elif unit.name not in area.no_clerk and rng.random() >= 0.04:
            post(Title.ORG_CLERK, predecessor=0.2)
    else:  # village or community
        post(Title.PARTY_SECRETARY, predecessor=0.15, user=f"official_{unit.code}")
        if unit.level == Level.VILLAGE and rng.random() < 0.07:
            # The 2015 selection of first secretaries (公开选拔村党组织第一书记).
            start = _day(rng, date(2015, 3, 1), date(2015, 6, 30))
            officials.append(OfficialSpec(_person(rng), [(Title.FIRST_SECRETARY, start, None)]))
    return officials


def plan_accounts(units: list[UnitSpec]) -> list[AccountSpec]:
    """The demo accounts of CONTRACT.md, an admin, and one official per village/community."""
    city = data.CITY_CODE
    accounts = [
        AccountSpec(
            "admin",
            "系统管理员",
            (),
            city,
            "Django admin (superuser)",
            is_staff=True,
            is_superuser=True,
        ),
        AccountSpec("planner_city", "市委组织部规划员", (Role.PLANNER,), city),
        AccountSpec("planner_xiao", "萧县县委组织部规划员", (Role.PLANNER,), XIAO),
        AccountSpec("leader_city", "宿州市委书记", (Role.LEADER,), city, "市委书记"),
        AccountSpec("leader_xiao", "萧县县委书记", (Role.LEADER,), XIAO, "县委书记"),
        AccountSpec("lead_a", "第一暗访组组长", (Role.TEAM_LEAD,), city, f"lead of {TEAM_A}"),
        AccountSpec("inspector_a", "第一暗访组组员", (Role.INSPECTOR,), city, TEAM_A),
        AccountSpec("lead_b", "第二暗访组组长", (Role.TEAM_LEAD,), city, f"lead of {TEAM_B}"),
        AccountSpec("inspector_b", "第二暗访组组员", (Role.INSPECTOR,), city, TEAM_B),
        AccountSpec("auditor", "审计员", (Role.AUDITOR,), city),
    ]
    accounts += [
        AccountSpec(f"official_{u.code}", f"{u.name}党组织书记", (Role.UNIT_OFFICIAL,), u.code)
        for u in units
        if u.level in (Level.VILLAGE, Level.COMMUNITY)
    ]
    return accounts


TEAMS = (
    (TEAM_A, "lead_a", ("lead_a", "inspector_a")),
    (TEAM_B, "lead_b", ("lead_b", "inspector_b")),
)

CHECKLIST_ITEMS = (
    ("VEN-1", "阵地建设", "村级组织活动场所新建或改扩建，面积不低于200平方米", 200, "㎡"),
    ("VEN-2", "阵地建设", "社区活动场所新建或改扩建，面积不低于300平方米", 300, "㎡"),
    ("FUND-1", "经费保障", "村服务群众专项经费每年不低于2万元，足额拨付到位", 20000, "元/年"),
    ("FUND-2", "经费保障", "社区服务群众专项经费每年不低于10万元，足额拨付到位", 100000, "元/年"),
    (
        "PAY-1",
        "报酬待遇",
        "村“两委”正职年报酬不低于16300元，其他村干部年报酬不低于13000元",
        16300,
        "元/年",
    ),
    (
        "PAY-2",
        "报酬待遇",
        "社区干部正职年报酬不低于26400元，其他社区干部年报酬不低于22800元",
        26400,
        "元/年",
    ),
    ("STAFF-1", "队伍建设", "每个乡镇（街道）至少配备1名组织干事", 1, "人"),
    ("STAFF-2", "队伍建设", "村党组织书记合格、在岗；选派第一书记的村，第一书记在岗到位", None, ""),
    (
        "EDU-1",
        "教育培训",
        "《宿州市基层党建工作知识手册》等学习资料发放到乡镇（街道）党（工）委书记、"
        "村（社区）党组织书记，人手一册",
        None,
        "",
    ),
    (
        "EDU-2",
        "教育培训",
        "党组织书记参加基层党建业务培训和业务测试，成绩达标或已参加补考",
        None,
        "",
    ),
    (
        "RESP-1",
        "责任落实",
        "市、县（区）、乡镇（街道）、村（社区）层层签订基层党建工作目标责任书",
        None,
        "",
    ),
    (
        "RESP-2",
        "责任落实",
        "乡镇党委书记认真履行抓基层党建第一责任人职责，主体责任落实到位",
        None,
        "",
    ),
)


# --------------------------------------------------------------------------------------------
# Build: insert what is missing
# --------------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    scale: str
    created: Counter
    accounts: list[AccountSpec]  # the named accounts (not the official_<code> ones)
    official_accounts: list[AccountSpec]  # official_<code>, one per village and community
    units_by_level: dict[str, int]
    totals: dict[str, int]
    unit_names: dict[str, str]

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _ensure_units(units: list[UnitSpec], created: Counter) -> dict[str, tuple[uuid.UUID, str]]:
    known = {
        code: (pk, path)
        for code, pk, path in Unit.objects.filter(code__in=[u.code for u in units]).values_list(
            "code", "id", "path"
        )
    }
    new: list[Unit] = []
    for spec in units:
        if spec.code in known:
            continue
        parent_id, parent_path = known[spec.parent] if spec.parent else (None, "")
        # bulk_create skips Unit.save(), which computes path and depth: do it here.
        path = f"{parent_path}{spec.code}/"
        unit = Unit(
            id=uuid.uuid4(),
            code=spec.code,
            name=spec.name,
            level=spec.level,
            parent_id=parent_id,
            path=path,
            depth=path.count("/") - 1,
            lat=spec.lat,
            lon=spec.lon,
        )
        new.append(unit)
        known[spec.code] = (unit.id, path)
    Unit.objects.bulk_create(new, batch_size=BATCH)
    created["units"] += len(new)
    return known


def _ensure_users(
    accounts: list[AccountSpec], units: dict[str, tuple[uuid.UUID, str]], created: Counter
) -> dict[str, int]:
    names = [a.username for a in accounts]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    missing = [a for a in accounts if a.username not in existing]
    if missing:
        # One hash for all: hashing 1,300 passwords one by one is what would make this slow.
        password = make_password(settings.DEMO_PASSWORD)
        User.objects.bulk_create(
            [
                User(
                    username=a.username,
                    password=password,
                    display_name=a.display_name,
                    roles=list(a.roles),
                    unit_id=units[a.unit][0],
                    is_staff=a.is_staff,
                    is_superuser=a.is_superuser,
                    is_active=True,
                )
                for a in missing
            ],
            batch_size=BATCH,
        )
        created["users"] += len(missing)
    return dict(User.objects.filter(username__in=names).values_list("username", "id"))


def _ensure_officials(
    units: list[UnitSpec],
    unit_ids: dict[str, tuple[uuid.UUID, str]],
    user_ids: dict[str, int],
    created: Counter,
) -> None:
    # A unit that has any position was staffed before (by this build): leave it alone.
    staffed = set(
        Position.objects.filter(unit_id__in=[unit_ids[u.code][0] for u in units])
        .values_list("unit__code", flat=True)
        .distinct()
    )
    taken = set(
        Official.objects.filter(user_id__in=user_ids.values()).values_list("user_id", flat=True)
    )
    officials: list[Official] = []
    positions: list[Position] = []
    for unit in units:
        if unit.code in staffed:
            continue
        unit_id = unit_ids[unit.code][0]
        for spec in plan_officials(unit):
            user_id = user_ids.get(spec.user) if spec.user else None
            if user_id in taken:
                user_id = None
            official = Official(id=uuid.uuid4(), name=spec.name, user_id=user_id)
            officials.append(official)
            if user_id is not None:
                taken.add(user_id)
            positions += [
                Position(
                    id=uuid.uuid4(),
                    official_id=official.id,
                    unit_id=unit_id,
                    title=title,
                    start=start,
                    end=end,
                )
                for title, start, end in spec.positions
            ]
    Official.objects.bulk_create(officials, batch_size=BATCH)
    Position.objects.bulk_create(positions, batch_size=BATCH)
    created["officials"] += len(officials)
    created["positions"] += len(positions)


def _ensure_teams(city_id: uuid.UUID, user_ids: dict[str, int], created: Counter) -> None:
    existing = set(
        Team.objects.filter(name__in=[t[0] for t in TEAMS]).values_list("name", flat=True)
    )
    for name, lead, members in TEAMS:
        if name in existing:
            continue
        team = Team.objects.create(name=name, lead_id=user_ids[lead], owner_unit_id=city_id)
        team.members.add(*(user_ids[m] for m in members))
        created["teams"] += 1


def _ensure_checklist(city_id: uuid.UUID, created: Counter) -> None:
    checklist = Checklist.objects.filter(title=CHECKLIST_TITLE).first()
    if checklist is None:
        checklist = Checklist.objects.create(title=CHECKLIST_TITLE, owner_unit_id=city_id)
        created["checklists"] += 1
    have = set(checklist.items.values_list("code", flat=True))
    items = [
        ChecklistItem(
            checklist=checklist,
            code=code,
            category=category,
            text=text,
            threshold=None if threshold is None else Decimal(threshold),
            unit_of_measure=uom,
            position=n,
        )
        for n, (code, category, text, threshold, uom) in enumerate(CHECKLIST_ITEMS, start=1)
        if code not in have
    ]
    ChecklistItem.objects.bulk_create(items)
    created["checklist_items"] += len(items)


def build_demo(scale: str = "demo") -> BuildResult:
    """Build (or complete) the demo at `scale`; a second run changes nothing."""
    units = plan_units(scale)
    accounts = plan_accounts(units)
    created: Counter = Counter()
    with transaction.atomic():
        unit_ids = _ensure_units(units, created)
        user_ids = _ensure_users(accounts, unit_ids, created)
        _ensure_officials(units, unit_ids, user_ids, created)
        city_id = unit_ids[data.CITY_CODE][0]
        _ensure_teams(city_id, user_ids, created)
        _ensure_checklist(city_id, created)

    tree = Unit.objects.filter(path__startswith=f"{data.CITY_CODE}/")
    by_level = dict(tree.values_list("level").annotate(n=Count("id")).order_by())
    return BuildResult(
        scale=scale,
        created=created,
        accounts=[a for a in accounts if not a.username.startswith("official_")],
        official_accounts=[a for a in accounts if a.username.startswith("official_")],
        units_by_level={level: by_level.get(level, 0) for level in Level.values},
        totals={
            "officials": Official.objects.count(),
            "positions": Position.objects.count(),
            "users": User.objects.count(),
            "teams": Team.objects.count(),
            "checklist_items": ChecklistItem.objects.filter(
                checklist__title=CHECKLIST_TITLE
            ).count(),
        },
        unit_names={u.code: u.name for u in units},
    )
