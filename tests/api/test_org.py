"""The organisation tree and accounts, read through the API as the apps read them."""

from datetime import date

import pytest

from audits.choices import Role, Title
from audits.selectors.org import holders
from tests.conftest import bearer
from tests.factories import (
    OfficialFactory,
    PositionFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
    tree,
)

pytestmark = pytest.mark.django_db


def all_pages(client, url):
    rows = []
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, answer.content
        rows += answer.json()["results"]
        url = answer.json()["next"]
    return rows


@pytest.fixture
def units():
    return tree()


def test_units_list_filters_and_shape(units):
    client = bearer(UserFactory(unit=units["city"]))
    villages = client.get("/api/v1/units?level=village").json()["results"]
    assert {v["name"] for v in villages} == {"甲村", "乙村"}
    one = next(v for v in villages if v["name"] == "甲村")
    assert set(one) == {"id", "code", "name", "level", "parent", "lat", "lon"}
    assert one["parent"] == str(units["town_a"].pk)
    assert one["lat"] == pytest.approx(33.6)
    children = client.get(f"/api/v1/units?parent={units['city'].pk}").json()["results"]
    assert [c["name"] for c in children] == ["甲县", "乙县"]
    found = client.get("/api/v1/units?q=乙").json()["results"]
    assert {u["name"] for u in found} == {"乙县", "乙镇", "乙村"}
    detail = client.get(f"/api/v1/units/{units['county_a'].pk}").json()
    assert detail["code"] == units["county_a"].code
    assert detail["level"] == "county"


def test_units_are_cursor_paginated_without_gaps_or_repeats(units):
    for n in range(120):
        UnitFactory(level="village", parent=units["town_a"], name=f"新村{n:03d}")
    client = bearer(UserFactory(unit=units["city"]))
    first = client.get("/api/v1/units?level=village&page_size=50").json()
    assert set(first) == {"results", "next", "previous"}
    rows = all_pages(client, "/api/v1/units?level=village&page_size=50")
    assert len(rows) == 122
    assert len({r["id"] for r in rows}) == 122


def test_page_size_is_capped(units):
    for n in range(510):
        UnitFactory.build(level="village", parent=units["town_a"], name=f"批{n}")
    client = bearer(UserFactory(unit=units["city"]))
    # 7 units exist; the cap is what is asserted: a request for 10,000 is served as 500.
    answer = client.get("/api/v1/units?page_size=10000")
    assert answer.status_code == 200
    assert len(answer.json()["results"]) <= 500


def test_me_lists_roles_unit_and_teams(units):
    lead = UserFactory(username="lead_x", roles=[Role.TEAM_LEAD], unit=units["city"])
    team = TeamFactory(lead=lead, name="第一暗访组")
    me = bearer(lead).get("/api/v1/me").json()
    assert me["roles"] == ["team_lead"]
    assert me["unit"] == {
        "id": str(units["city"].pk),
        "code": units["city"].code,
        "name": "测试市",
        "level": "city",
    }
    assert me["teams"] == [{"id": str(team.pk), "name": "第一暗访组", "lead": lead.pk}]


def test_officials_follow_jurisdiction_and_show_positions(units):
    in_a = PositionFactory(unit=units["village_a"], official__name="张书记")
    in_b = PositionFactory(unit=units["village_b"], official__name="李书记")
    county_planner = UserFactory(unit=units["county_a"], roles=[Role.PLANNER])
    city_planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    seen = {o["name"] for o in all_pages(bearer(county_planner), "/api/v1/officials")}
    assert seen == {"张书记"}
    seen = {o["name"] for o in all_pages(bearer(city_planner), "/api/v1/officials")}
    assert seen == {"张书记", "李书记"}
    assert bearer(county_planner).get(f"/api/v1/officials/{in_b.official_id}").status_code == 404
    detail = bearer(city_planner).get(f"/api/v1/officials/{in_a.official_id}").json()
    assert detail["positions"] == [
        {
            "id": str(in_a.pk),
            "unit": str(units["village_a"].pk),
            "title": "party_secretary",
            "start": "2012-01-01",
            "end": None,
        }
    ]
    by_unit = bearer(city_planner).get(f"/api/v1/officials?unit={units['village_b'].pk}")
    assert [o["name"] for o in by_unit.json()["results"]] == ["李书记"]


def test_unit_official_sees_only_officials_of_their_unit(units):
    PositionFactory(unit=units["village_a"], official__name="本村书记")
    PositionFactory(unit=units["town_a"], official__name="镇书记")
    official = UserFactory(unit=units["village_a"], roles=[Role.UNIT_OFFICIAL])
    names = {o["name"] for o in bearer(official).get("/api/v1/officials").json()["results"]}
    assert names == {"本村书记"}


def test_users_list_is_for_planners_within_jurisdiction(units):
    planner = UserFactory(username="p_a", unit=units["county_a"], roles=[Role.PLANNER])
    UserFactory(username="insp_a", unit=units["town_a"], roles=[Role.INSPECTOR])
    UserFactory(username="insp_b", unit=units["town_b"], roles=[Role.INSPECTOR])
    rows = bearer(planner).get("/api/v1/users").json()["results"]
    assert {r["username"] for r in rows} == {"p_a", "insp_a"}
    assert set(rows[0]) == {"id", "username", "display_name", "roles", "unit"}
    only = bearer(planner).get("/api/v1/users?role=inspector").json()["results"]
    assert [r["username"] for r in only] == ["insp_a"]
    by_q = bearer(planner).get("/api/v1/users?q=insp").json()["results"]
    assert [r["username"] for r in by_q] == ["insp_a"]
    auditor = UserFactory(unit=units["city"], roles=[Role.AUDITOR])
    everyone = {r["username"] for r in bearer(auditor).get("/api/v1/users").json()["results"]}
    assert everyone == {"p_a", "insp_a", "insp_b", auditor.username}
    # A unit outside the planner's jurisdiction filters to nothing.
    other = bearer(planner).get(f"/api/v1/users?unit={units['town_b'].pk}")
    assert other.json()["results"] == []


def test_who_held_a_position_on_a_day_is_one_query(units, django_assert_num_queries):
    early = PositionFactory(
        unit=units["town_a"],
        title=Title.PARTY_SECRETARY,
        start=date(2010, 1, 1),
        end=date(2014, 6, 30),
        official=OfficialFactory(name="前任"),
    )
    PositionFactory(
        unit=units["town_a"],
        title=Title.PARTY_SECRETARY,
        start=date(2014, 7, 1),
        official=OfficialFactory(name="现任"),
    )
    with django_assert_num_queries(1):
        names = [
            p.official.name
            for p in holders(
                unit=units["town_a"], title=Title.PARTY_SECRETARY, on=date(2014, 6, 30)
            )
        ]
    assert names == ["前任"]
    assert [
        p.official.name
        for p in holders(unit=units["town_a"], title=Title.PARTY_SECRETARY, on=date(2015, 1, 1))
    ] == ["现任"]
    assert early.end == date(2014, 6, 30)


@pytest.mark.parametrize("size", [5, 60])
def test_queries_per_list_do_not_grow_with_rows(units, size, django_assert_max_num_queries):
    for n in range(size):
        PositionFactory(unit=units["village_a"], official__name=f"干部{n}")
        UnitFactory(level="village", parent=units["town_a"])
    client = bearer(UserFactory(unit=units["city"], roles=[Role.PLANNER]))
    for url in [
        "/api/v1/units?level=village&page_size=100",
        "/api/v1/officials?page_size=100",
        "/api/v1/users?page_size=100",
        "/api/v1/me",
    ]:
        with django_assert_max_num_queries(5):  # savepoint, session, rows, prefetch, release
            assert client.get(url).status_code == 200
