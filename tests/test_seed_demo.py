"""`manage.py seed_demo`: the real 宿州市 tree, the contract's demo accounts, idempotence."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from audits.choices import Level, Role, Title
from audits.demo.build import CHECKLIST_TITLE, build_demo, plan_units
from audits.models import (
    AuditEvent,
    Checklist,
    ChecklistItem,
    Official,
    Position,
    Team,
    Unit,
    User,
)

CITY = "341300"
COUNTIES = {
    "341302": "埇桥区",
    "341321": "砀山县",
    "341322": "萧县",
    "341323": "灵璧县",
    "341324": "泗县",
}
ZONES = {"341371", "341372", "341373"}

# CONTRACT.md, Operations: username → (roles, home unit code).
ACCOUNTS = {
    "planner_city": ([Role.PLANNER], CITY),
    "planner_xiao": ([Role.PLANNER], "341322"),
    "leader_city": ([Role.LEADER], CITY),
    "leader_xiao": ([Role.LEADER], "341322"),
    "lead_a": ([Role.TEAM_LEAD], CITY),
    "inspector_a": ([Role.INSPECTOR], CITY),
    "inspector_b": ([Role.INSPECTOR], CITY),
    "auditor": ([Role.AUDITOR], CITY),
    "lead_b": ([Role.TEAM_LEAD], CITY),
}

LAT = (Decimal("33.3"), Decimal("34.6"))
LON = (Decimal("116.3"), Decimal("118.2"))

SNAPSHOT_MODELS = (Unit, Official, Position, User, Team, Checklist, ChecklistItem)


def snapshot() -> dict:
    counts = {model.__name__: model.objects.count() for model in SNAPSHOT_MODELS}
    counts["team_members"] = Team.members.through.objects.count()
    counts["audit_events"] = AuditEvent.objects.count()
    counts["audit_head"] = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return counts


def grassroots():
    return Unit.objects.filter(level__in=[Level.VILLAGE, Level.COMMUNITY])


@pytest.mark.django_db
def test_command_creates_the_contract_accounts_with_the_demo_password():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()

    for username, (roles, unit_code) in ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.roles == roles, username
        assert user.unit.code == unit_code, username
        assert user.display_name, username
        assert user.check_password(settings.DEMO_PASSWORD), username
        assert username in printed
    assert "planner_city" in printed
    assert "341300" in printed
    assert "demo-pass-2015" in printed or "DEMO_PASSWORD" in printed

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(settings.DEMO_PASSWORD)

    # One unit official for every village and community, at that unit.
    units = list(grassroots())
    assert units
    officials = {u.username: u for u in User.objects.filter(roles__contains=[Role.UNIT_OFFICIAL])}
    assert len(officials) == len(units)
    for unit in units:
        user = officials[f"official_{unit.code}"]
        assert user.unit_id == unit.id
        assert user.roles == [Role.UNIT_OFFICIAL]
        assert user.check_password(settings.DEMO_PASSWORD)
        # …who is the village's current party secretary.
        held = Position.objects.held_on(date(2015, 7, 1)).get(
            official__user=user, title=Title.PARTY_SECRETARY
        )
        assert held.unit_id == unit.id


@pytest.mark.django_db
def test_teams_and_leaders():
    build_demo()
    team_a = Team.objects.get(name="第一暗访组")
    assert team_a.lead.username == "lead_a"
    assert team_a.owner_unit.code == CITY
    assert set(team_a.members.values_list("username", flat=True)) == {"lead_a", "inspector_a"}
    team_b = Team.objects.get(name="第二暗访组")
    assert team_b.lead.username == "lead_b"
    assert set(team_b.members.values_list("username", flat=True)) == {"lead_b", "inspector_b"}

    on = date(2015, 7, 1)
    for username, code in (("leader_city", CITY), ("leader_xiao", "341322")):
        official = Official.objects.get(user__username=username)
        position = official.positions.held_on(on).get()
        assert position.unit.code == code
        assert position.title == Title.PARTY_SECRETARY
    for code in (CITY, *COUNTIES):
        titles = set(
            Position.objects.held_on(on).filter(unit__code=code).values_list("title", flat=True)
        )
        assert {
            Title.PARTY_SECRETARY,
            Title.DEPUTY_SECRETARY,
            Title.ORG_DEPARTMENT_HEAD,
        } <= titles, code


@pytest.mark.django_db
def test_tree_follows_the_real_city():
    build_demo()
    city = Unit.objects.get(code=CITY)
    assert city.name == "宿州市"
    assert city.level == Level.CITY
    assert city.parent is None

    counties = {u.code: u for u in Unit.objects.filter(level=Level.COUNTY)}
    assert {code: u.name for code, u in counties.items()} == COUNTIES
    assert all(u.parent_id == city.id for u in counties.values())
    zones = Unit.objects.filter(level=Level.ZONE)
    assert set(zones.values_list("code", flat=True)) == ZONES
    assert "宿州经济技术开发区" in set(zones.values_list("name", flat=True))
    assert all(z.parent_id == city.id for z in zones)

    for code in COUNTIES:
        assert Unit.objects.filter(level=Level.TOWNSHIP, parent__code=code).count() >= 3, code
    xiao = set(Unit.objects.filter(parent__code="341322").values_list("name", flat=True))
    assert {"龙城镇", "黄口镇", "闫集镇"} <= xiao

    for unit in Unit.objects.select_related("parent").exclude(level=Level.CITY):
        # The materialised path is what Unit.save() would have computed.
        assert unit.path == f"{unit.parent.path}{unit.code}/", unit
        assert unit.depth == unit.path.count("/") - 1, unit
        assert LAT[0] <= unit.lat <= LAT[1], unit
        assert LON[0] <= unit.lon <= LON[1], unit
        if unit.level == Level.TOWNSHIP:
            assert len(unit.code) == 9
            assert unit.code.startswith(unit.parent.code)
        if unit.level in (Level.VILLAGE, Level.COMMUNITY):
            assert unit.parent.level == Level.TOWNSHIP
            assert len(unit.code) == 12
            assert unit.code.startswith(unit.parent.code)
            assert unit.name.endswith("村" if unit.level == Level.VILLAGE else "社区")

    assert 100 <= grassroots().count() <= 200
    assert Unit.objects.filter(level=Level.COMMUNITY).exists()
    names = Counter(grassroots().values_list("parent_id", "name"))
    assert max(names.values()) == 1  # no duplicate names within a township


@pytest.mark.django_db
def test_officials_have_history_and_some_townships_lack_a_clerk():
    build_demo()
    on = date(2015, 7, 1)
    held = Position.objects.held_on(on)
    for unit in Unit.objects.filter(level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.COMMUNITY]):
        assert held.filter(unit=unit, title=Title.PARTY_SECRETARY).count() == 1, unit

    townships = Unit.objects.filter(level=Level.TOWNSHIP)
    with_clerk = set(held.filter(title=Title.ORG_CLERK).values_list("unit_id", flat=True))
    without = [t for t in townships if t.id not in with_clerk]
    assert 0 < len(without) < townships.count() // 2
    assert any(t.parent.code == "341322" for t in without)

    # "Who was the secretary on day D" has an answer that changes over time.
    ended = Position.objects.filter(title=Title.PARTY_SECRETARY, end__isnull=False).first()
    assert ended is not None
    before = Position.objects.held_on(ended.end).get(unit=ended.unit, title=ended.title)
    after = Position.objects.held_on(ended.end + timedelta(days=1)).get(
        unit=ended.unit, title=ended.title
    )
    assert before.official_id == ended.official_id
    assert after.official_id != ended.official_id
    starts = Position.objects.values_list("start", flat=True)
    assert min(starts).year >= 2010
    assert max(starts).year <= 2015


@pytest.mark.django_db
def test_checklist_of_2015():
    build_demo()
    checklist = Checklist.objects.get(title=CHECKLIST_TITLE)
    assert checklist.owner_unit.code == CITY
    items = list(checklist.items.order_by("position"))
    assert [i.code for i in items] == [
        "VEN-1",
        "VEN-2",
        "FUND-1",
        "FUND-2",
        "PAY-1",
        "PAY-2",
        "STAFF-1",
        "STAFF-2",
        "EDU-1",
        "EDU-2",
        "RESP-1",
        "RESP-2",
    ]
    assert [i.position for i in items] == list(range(1, 13))
    thresholds = {i.code: (i.threshold, i.unit_of_measure) for i in items}
    assert thresholds["VEN-1"] == (Decimal("200"), "㎡")
    assert thresholds["VEN-2"] == (Decimal("300"), "㎡")
    assert thresholds["FUND-1"] == (Decimal("20000"), "元/年")
    assert thresholds["FUND-2"] == (Decimal("100000"), "元/年")
    assert thresholds["PAY-1"] == (Decimal("16300"), "元/年")
    assert thresholds["PAY-2"] == (Decimal("26400"), "元/年")
    assert thresholds["STAFF-1"] == (Decimal("1"), "人")
    for code in ("STAFF-2", "EDU-1", "EDU-2", "RESP-1", "RESP-2"):
        assert thresholds[code] == (None, ""), code
    categories = {i.code: i.category for i in items}
    assert categories["VEN-1"] == "阵地建设"
    assert categories["RESP-2"] == "责任落实"
    assert "200平方米" in items[0].text


@pytest.mark.django_db
def test_running_twice_changes_nothing():
    first = build_demo()
    assert first.changed
    before = snapshot()
    assert before["audit_events"] > 0  # the first run was audited, row by row

    second = build_demo()
    assert not second.changed
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before


def test_demo_scale_is_a_subset_of_full_scale():
    demo = {u.code: u for u in plan_units("demo")}
    full = {u.code: u for u in plan_units("full")}
    assert all(full[code] == unit for code, unit in demo.items())
    assert plan_units("demo") == plan_units("demo")  # deterministic


@pytest.mark.django_db
def test_full_scale_after_demo_adds_the_real_tree():
    build_demo("demo")
    demo_units = dict(Unit.objects.values_list("code", "id"))

    call_command("seed_demo", "--scale", "full", stdout=StringIO())
    assert Unit.objects.filter(level=Level.VILLAGE).count() == 1210
    assert Unit.objects.filter(level=Level.COMMUNITY).count() == 99
    assert Unit.objects.count() == len(plan_units("full"))
    # The demo's units are still there, the same rows.
    assert all(Unit.objects.filter(code=code, id=pk).exists() for code, pk in demo_units.items())
    assert User.objects.filter(roles__contains=[Role.UNIT_OFFICIAL]).count() == 1309
    assert User.objects.filter(username__in=ACCOUNTS).count() == len(ACCOUNTS)

    before = snapshot()
    assert not build_demo("full").changed
    assert snapshot() == before
