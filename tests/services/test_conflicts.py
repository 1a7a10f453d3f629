"""Conflicts of interest: home county or zone, and positions held in the last five years."""

from datetime import date

import pytest

from audits.choices import Level, Role, Title
from audits.conflicts import (
    ConflictOfInterest,
    check_assignment,
    conflict,
    conflicted_counties,
    county_of,
    team_conflict,
    years_before,
)
from audits.problems import STATUS
from tests.factories import (
    OfficialFactory,
    PositionFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
    tree,
)

pytestmark = pytest.mark.django_db

ON = date(2015, 6, 1)


@pytest.fixture
def units():
    return tree()


def person(unit, name="张三", roles=(Role.INSPECTOR,)):
    return UserFactory(unit=unit, display_name=name, roles=list(roles))


def held(user, unit, *, end, start=date(1995, 1, 1), title=Title.PARTY_SECRETARY):
    official = getattr(user, "official", None) or OfficialFactory(user=user, name=user.label)
    return PositionFactory(official=official, unit=unit, start=start, end=end, title=title)


def test_county_of_is_the_second_path_segment(units):
    assert county_of(units["city"]) is None
    assert county_of(units["county_a"]) == units["county_a"].code
    assert county_of(units["town_a"]) == units["county_a"].code
    assert county_of(units["village_b"]) == units["county_b"].code
    assert units["village_a"].path.split("/")[1] == units["county_a"].code


def test_home_unit_in_the_same_county_conflicts(units):
    township_man = person(units["town_a"])
    assert conflict(township_man, units["village_a"], on=ON) == "home_county"
    assert conflict(township_man, units["county_a"], on=ON) == "home_county"
    assert conflict(township_man, units["village_b"], on=ON) is None
    county_man = person(units["county_b"])
    assert conflict(county_man, units["village_b"], on=ON) == "home_county"
    villager = person(units["village_a"])
    assert conflict(villager, units["town_a"], on=ON) == "home_county"


def test_city_level_staff_are_not_conflicted_by_their_home_unit(units):
    city_man = person(units["city"])
    for key in ("county_a", "town_a", "village_a", "village_b"):
        assert conflict(city_man, units[key], on=ON) is None
    assert conflict(city_man, units["city"], on=ON) is None
    homeless = UserFactory(unit=None)
    assert conflict(homeless, units["village_a"], on=ON) is None


def test_a_position_in_the_last_five_years_conflicts(units):
    three_years = person(units["city"], "李四")
    held(three_years, units["village_b"], end=date(2012, 6, 1), title=Title.ORG_CLERK)
    assert conflict(three_years, units["village_b"], on=ON) == "recent_position"
    assert conflict(three_years, units["town_b"], on=ON) == "recent_position"
    assert conflict(three_years, units["village_a"], on=ON) is None

    six_years = person(units["city"], "王五")
    held(six_years, units["town_b"], end=date(2009, 6, 1))
    assert conflict(six_years, units["village_b"], on=ON) is None

    still_there = person(units["city"], "赵六")
    held(still_there, units["county_a"], end=None, title=Title.ORG_DEPARTMENT_HEAD)
    assert conflict(still_there, units["village_a"], on=ON) == "recent_position"


def test_the_five_years_boundary(units):
    edge = person(units["city"])
    held(edge, units["village_a"], end=date(2010, 6, 1))  # exactly ON minus five years
    assert conflict(edge, units["village_a"], on=ON) == "recent_position"
    past = person(units["city"])
    held(past, units["village_a"], end=date(2010, 5, 31))  # one day more
    assert conflict(past, units["village_a"], on=ON) is None
    assert years_before(date(2016, 2, 29), 5) == date(2011, 2, 28)


def test_a_position_at_the_city_itself_conflicts_with_nothing(units):
    head = person(units["city"])
    held(head, units["city"], end=None, title=Title.ORG_DEPARTMENT_HEAD)
    assert conflict(head, units["village_a"], on=ON) is None


def test_home_county_wins_when_both_rules_apply(units):
    both = person(units["town_a"])
    held(both, units["village_a"], end=None)
    assert conflict(both, units["village_a"], on=ON) == "home_county"


def test_team_conflict_names_the_first_conflicted_person(units):
    lead = person(units["city"], "组长", roles=[Role.TEAM_LEAD])
    clean = person(units["city"], "干净")
    local = person(units["town_a"], "张三")
    team = TeamFactory(lead=lead, members=[clean, local])
    assert team_conflict(team, units["village_a"], on=ON) == (local, "home_county")
    assert team_conflict(team, units["village_b"], on=ON) is None
    held(lead, units["town_b"], end=date(2013, 1, 1))
    assert team_conflict(team, units["village_b"], on=ON) == (lead, "recent_position")


def test_check_assignment_raises_409_naming_the_rule_and_the_person(units):
    lead = person(units["city"], "组长", roles=[Role.TEAM_LEAD])
    team = TeamFactory(lead=lead, members=[person(units["town_a"], "张三")])
    check_assignment(team, units["village_b"], on=ON)  # no conflict: nothing raised
    with pytest.raises(ConflictOfInterest) as caught:
        check_assignment(team, units["village_a"], on=ON)
    error = caught.value
    assert STATUS[error.code] == 409
    assert error.code == "conflict_of_interest"
    assert error.rule == "home_county"
    assert "张三" in str(error.message)
    assert "home_county" in str(error.message)
    assert (
        str(error.message) == "利益冲突：张三的工作单位与被检查单位在同一县区（规则 home_county）"
    )

    other = TeamFactory(lead=lead, members=[])
    held(lead, units["village_b"], end=date(2014, 1, 1))
    with pytest.raises(ConflictOfInterest) as caught:
        check_assignment(other, units["village_b"], on=ON)
    assert caught.value.rule == "recent_position"
    assert "组长" in str(caught.value.message)
    assert "recent_position" in str(caught.value.message)


def test_conflicted_counties_for_many_teams_in_a_fixed_number_of_queries(
    units, django_assert_num_queries
):
    city = units["city"]
    extra = UnitFactory(level=Level.ZONE, parent=city, name="开发区")
    teams = []
    for n in range(6):
        members = [person(city, f"组员{n}{m}") for m in range(4)]
        if n % 2:
            members.append(person(units["town_a"]))
        if n % 3 == 0:
            held(members[0], units["village_b"], end=date(2014, 1, 1))
            held(members[1], extra, end=date(2001, 1, 1))  # too long ago
        teams.append(TeamFactory(lead=person(city, roles=[Role.TEAM_LEAD]), members=members))
    with django_assert_num_queries(3):
        counties = conflicted_counties(teams, ON)
    a, b = units["county_a"].code, units["county_b"].code
    assert counties == {
        t.pk: ({a} if n % 2 else set()) | ({b} if n % 3 == 0 else set())
        for n, t in enumerate(teams)
    }
