"""The documented draw: ranking, commitment and reveal, conflicts, team spreading, manual visits."""

import hashlib
import json
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from audits.choices import Level, Role, Title, VisitStatus
from audits.conflicts import ConflictOfInterest, county_of
from audits.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, WrongState
from audits.models import AuditEvent, Checklist, Draw, Unit, Visit
from audits.problems import STATUS
from audits.services import draws
from audits.services.draws import campaign_draw, commitment, draw_reveal, rank, visit_add
from tests.factories import (
    CampaignFactory,
    OfficialFactory,
    PositionFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = date(2015, 6, 1), date(2015, 6, 30)
SEED = "suzhou-2015-example"

# The worked example of docs/DRAW.md, computed by hand with sha256sum.
EXAMPLE_COMMITMENT = "ad963be3a695a688dc519d5ec96e2f9866eef018ba53e04a61216061c668635b"
EXAMPLE_DIGESTS = {
    "341322101201": "7e42c395f109a51700d62658cc40847a1952790b2f12430a5cd265e802dad60e",
    "341322101202": "cec33a920fd9e1fa6ffbb728c5c910402c51ccd27cff41cb60a4c65e6d93d311",
    "341322102201": "5c4fab312dd7df557d18c36e7fa4ab6319608f6747ed6e675042f69a2e01eb39",
    "341323103201": "2412f582a380434c6c35fc7e8fffb95126ac9675f3e300ca7fb7866fce83c98d",
    "341324104201": "cd4ecbda12468ea7fac72d9390455a0b85fcd5307cdbd1acf0d18ea66a29038c",
}
EXAMPLE_RANKING = ["341323103201", "341322102201", "341322101201", "341324104201", "341322101202"]


# --- the ranking, without a database ------------------------------------------------------


@pytest.mark.django_db(databases=[])
def test_rank_matches_the_worked_example_in_the_docs():
    assert commitment(SEED) == EXAMPLE_COMMITMENT
    for code, digest in EXAMPLE_DIGESTS.items():
        assert draws.digest(SEED, code) == digest
    assert rank(SEED, sorted(EXAMPLE_DIGESTS)) == EXAMPLE_RANKING
    doc = (ROOT / "docs" / "DRAW.md").read_text(encoding="utf-8")
    assert EXAMPLE_COMMITMENT in doc
    for code, digest in EXAMPLE_DIGESTS.items():
        assert f"| {code} | `{digest}` |" in doc
    assert ", ".join(f"`{c}`" for c in EXAMPLE_RANKING) in doc.replace("\n", " ")


@pytest.mark.django_db(databases=[])
def test_rank_is_deterministic_and_independent_of_the_input_order():
    codes = [f"3413221{n:05d}" for n in range(200)]
    first = rank("种子-2015", codes)
    assert first == rank("种子-2015", list(reversed(codes)))
    assert first == rank("种子-2015", codes + codes[:10])  # a set: duplicates collapse
    assert sorted(first) == codes
    assert first != rank("种子-2016", codes)
    expected = sorted(
        codes, key=lambda c: hashlib.sha256(("种子-2015" + ":" + c).encode("utf-8")).hexdigest()
    )
    assert first == expected


@pytest.mark.django_db(databases=[])
def test_commitment_is_the_sha256_of_the_seed_and_server_seeds_are_fresh():
    assert commitment("种子-2015") == hashlib.sha256("种子-2015".encode()).hexdigest()
    seed = draws.new_seed()
    assert len(seed) == 64
    int(seed, 16)
    assert seed != draws.new_seed()
    assert draws.seed_problem("12345678") is None
    assert draws.seed_problem("x" * 128) is None
    assert draws.seed_problem("2015年度基层党建暗访") is None
    assert draws.seed_problem("1234567") is not None
    assert draws.seed_problem("x" * 129) is not None
    assert draws.seed_problem("abc\ndefgh") is not None


# --- the world the draws run in -------------------------------------------------------------


@pytest.fixture
def world():
    """A city with counties A–D, two townships each, three villages per township."""
    city = UnitFactory(level=Level.CITY, name="测试市")
    counties, villages = {}, {}
    for key in "ABCD":
        county = counties[key] = UnitFactory(level=Level.COUNTY, parent=city, name=f"{key}县")
        towns = [
            UnitFactory(level=Level.TOWNSHIP, parent=county, name=f"{key}镇{n}") for n in range(2)
        ]
        villages[key] = [
            UnitFactory(level=Level.VILLAGE, parent=t, name=f"{t.name}村{m}")
            for t in towns
            for m in range(3)
        ]
    planner = UserFactory(username="planner_city", unit=city, roles=[Role.PLANNER])
    return {"city": city, "counties": counties, "villages": villages, "planner": planner}


def campaign(unit, starts_on=START, ends_on=END, title=None):
    checklist = Checklist.objects.create(
        title=title or f"清单-{uuid.uuid4().hex[:8]}", owner_unit=unit
    )
    return CampaignFactory(unit=unit, starts_on=starts_on, ends_on=ends_on, checklist=checklist)


def person(unit, name=None, roles=(Role.INSPECTOR,)):
    return UserFactory(unit=unit, roles=list(roles), **({"display_name": name} if name else {}))


def team(owner, *members, name=None):
    lead = person(owner, roles=[Role.TEAM_LEAD])
    return TeamFactory(
        lead=lead, members=list(members), owner_unit=owner, **({"name": name} if name else {})
    )


def held(user, unit, *, end):
    official = OfficialFactory(user=user, name=user.label)
    return PositionFactory(
        official=official,
        unit=unit,
        start=date(2000, 1, 1),
        end=end,
        title=Title.ORG_COMMITTEE_MEMBER,
    )


def codes(units):
    return {u.code for u in units}


def target_codes(draw):
    by_id = dict(Unit.objects.filter(pk__in=draw.targets).values_list("pk", "code"))
    return [by_id[pk] for pk in draw.targets]


def visits_by_team(draw):
    out = {}
    for team_id, code in Visit.objects.filter(campaign_id=draw.campaign_id).values_list(
        "team_id", "target__code"
    ):
        out.setdefault(team_id, set()).add(code)
    return out


def walk(seed, frame, size, skipped):
    """The verifier's reading of docs/DRAW.md §3: targets and the skips met on the way."""
    taken, met = [], []
    for code in rank(seed, frame):
        if len(taken) == size:
            break
        (met if code in skipped else taken).append(code)
    return taken, met


# --- the draw ---------------------------------------------------------------------------------


def test_draw_takes_size_distinct_units_of_the_level_under_the_frame(world):
    c = campaign(world["city"])
    red, blue = team(world["city"]), team(world["city"])
    draw = campaign_draw(
        actor=world["planner"],
        campaign=c,
        frame_unit=world["city"],
        level=Level.VILLAGE,
        size=10,
        seed=SEED,
    )
    all_villages = codes(v for vs in world["villages"].values() for v in vs)
    assert draw.frame == sorted(all_villages)
    chosen = target_codes(draw)
    assert len(chosen) == len(set(chosen)) == 10
    assert set(chosen) <= all_villages
    assert chosen == rank(SEED, draw.frame)[:10]
    assert draw.skipped == []
    assert (draw.seed, draw.commitment) == (SEED, hashlib.sha256(SEED.encode()).hexdigest())
    assert (draw.level, draw.size, draw.frame_unit, draw.drawn_by) == (
        Level.VILLAGE,
        10,
        world["city"],
        world["planner"],
    )
    assert draw.algorithm == "sha256-rank-v1"

    visits = list(Visit.objects.filter(campaign=c))
    assert len(visits) == 10
    assert {v.target_id for v in visits} == set(draw.targets)
    for v in visits:
        assert v.drawn
        assert v.status == VisitStatus.PLANNED
        assert v.target.level == Level.VILLAGE
        assert v.window_start == datetime.combine(START, time.min, tzinfo=SHANGHAI)
        assert v.window_end == datetime.combine(END, time(23, 59, 59, 999999), tzinfo=SHANGHAI)
    # Two teams with nothing else to tell them apart share the load.
    assert Counter(v.team_id for v in visits) == {red.pk: 5, blue.pk: 5}


def test_a_frame_of_townships_under_a_county(world):
    county = world["counties"]["B"]
    c = campaign(world["city"])
    team(world["city"])
    draw = campaign_draw(
        actor=world["planner"],
        campaign=c,
        frame_unit=county,
        level=Level.TOWNSHIP,
        size=2,
        seed=SEED,
    )
    assert set(draw.frame) == set(Unit.objects.filter(parent=county).values_list("code", flat=True))
    assert {u.parent_id for u in Unit.objects.filter(pk__in=draw.targets)} == {county.pk}


def test_same_seed_and_frame_give_the_same_targets_in_another_database_state(world):
    frame_unit = world["counties"]["A"]
    team(world["city"])
    first = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"]),
        frame_unit=frame_unit,
        level=Level.VILLAGE,
        size=4,
        seed=SEED,
    )
    # The world changes around the frame: new units elsewhere, new teams, a later campaign.
    extra = UnitFactory(level=Level.COUNTY, parent=world["city"], name="E县")
    for n in range(5):
        UnitFactory(
            level=Level.VILLAGE,
            parent=UnitFactory(level=Level.TOWNSHIP, parent=extra),
            name=f"E村{n}",
        )
    team(world["city"])
    team(world["city"])
    second = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"], date(2016, 3, 1), date(2016, 3, 31)),
        frame_unit=frame_unit,
        level=Level.VILLAGE,
        size=4,
        seed=SEED,
    )
    assert second.frame == first.frame
    assert target_codes(second) == target_codes(first) == rank(SEED, first.frame)[:4]
    third = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"], date(2016, 9, 1), date(2016, 9, 30)),
        frame_unit=frame_unit,
        level=Level.VILLAGE,
        size=4,
        seed="another-seed-2016",
    )
    assert third.frame == first.frame
    assert target_codes(third) == rank("another-seed-2016", first.frame)[:4]


def test_the_server_makes_the_seed_when_none_is_given(world):
    team(world["city"])
    one = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"]),
        frame_unit=world["city"],
        level=Level.VILLAGE,
        size=3,
    )
    two = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"]),
        frame_unit=world["city"],
        level=Level.VILLAGE,
        size=3,
    )
    for draw in (one, two):
        assert len(draw.seed) == 64
        assert draw.commitment == hashlib.sha256(draw.seed.encode()).hexdigest()
        assert target_codes(draw) == rank(draw.seed, draw.frame)[:3]
    assert one.seed != two.seed


@pytest.mark.parametrize("seed", ["short", "x" * 129, "tab\there-ok?"])
def test_a_bad_planner_seed_is_refused(world, seed):
    team(world["city"])
    with pytest.raises(DomainError) as caught:
        campaign_draw(
            actor=world["planner"],
            campaign=campaign(world["city"]),
            frame_unit=world["city"],
            level=Level.VILLAGE,
            size=3,
            seed=seed,
        )
    assert caught.value.code == "bad_seed"
    assert STATUS[caught.value.code] == 400


def test_a_second_draw_is_refused(world):
    c = campaign(world["city"])
    team(world["city"])
    campaign_draw(
        actor=world["planner"],
        campaign=c,
        frame_unit=world["city"],
        level=Level.VILLAGE,
        size=3,
        seed=SEED,
    )
    with pytest.raises(WrongState) as caught:
        campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=world["city"],
            level=Level.VILLAGE,
            size=3,
            seed="another-seed",
        )
    assert STATUS[caught.value.code] == 409
    assert caught.value.code == "already_drawn"
    assert Visit.objects.filter(campaign=c).count() == 3
    assert Draw.objects.get(campaign=c).seed == SEED


def test_a_frame_too_small_is_refused_and_nothing_is_created(world):
    c = campaign(world["city"])
    team(world["city"])
    with pytest.raises(DomainError) as caught:
        campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=world["counties"]["A"],
            level=Level.VILLAGE,
            size=7,
            seed=SEED,
        )
    assert caught.value.code == "frame_too_small"
    assert STATUS[caught.value.code] == 400
    assert not Visit.objects.filter(campaign=c).exists()
    assert not Draw.objects.filter(campaign=c).exists()


def test_the_frame_must_lie_in_the_campaign_unit_and_the_level_below_it(world):
    county_a = world["counties"]["A"]
    c = campaign(county_a)
    team(county_a)
    planner = person(county_a, roles=[Role.PLANNER])
    with pytest.raises(DomainError) as caught:
        campaign_draw(
            actor=planner,
            campaign=c,
            frame_unit=world["counties"]["B"],
            level=Level.VILLAGE,
            size=1,
            seed=SEED,
        )
    assert caught.value.code == "frame_outside_campaign"
    with pytest.raises(DomainError) as caught:
        campaign_draw(
            actor=planner,
            campaign=c,
            frame_unit=world["city"],
            level=Level.VILLAGE,
            size=1,
            seed=SEED,
        )
    assert caught.value.code == "frame_outside_campaign"
    for level in (Level.COUNTY, Level.CITY):
        with pytest.raises(DomainError) as caught:
            campaign_draw(
                actor=planner, campaign=c, frame_unit=county_a, level=level, size=1, seed=SEED
            )
        assert caught.value.code == "level_not_below_frame"


def test_only_planners_of_the_campaign_may_draw(world):
    c = campaign(world["city"])
    team(world["city"])
    for actor in (
        person(world["city"], roles=[Role.INSPECTOR]),
        person(world["counties"]["B"], roles=[Role.PLANNER]),
    ):
        with pytest.raises(Forbidden):
            campaign_draw(
                actor=actor,
                campaign=c,
                frame_unit=world["city"],
                level=Level.VILLAGE,
                size=1,
                seed=SEED,
            )


def test_no_teams_is_refused(world):
    county_c = world["counties"]["C"]
    c = campaign(county_c)
    with pytest.raises(Conflict) as caught:
        campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=county_c,
            level=Level.VILLAGE,
            size=1,
            seed=SEED,
        )
    assert caught.value.code == "no_teams"
    team(world["city"])  # owned by the city, not by the campaign's county
    with pytest.raises(Conflict):
        campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=county_c,
            level=Level.VILLAGE,
            size=1,
            seed=SEED,
        )


def test_units_already_visited_in_the_campaign_are_left_out_of_the_frame(world):
    c = campaign(world["city"])
    crew = team(world["city"])
    visited = world["villages"]["A"][0]
    visit_add(actor=world["planner"], campaign=c, target=visited, team=crew)
    with pytest.raises(DomainError):
        campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=world["counties"]["A"],
            level=Level.VILLAGE,
            size=6,
            seed=SEED,
        )
    draw = campaign_draw(
        actor=world["planner"],
        campaign=c,
        frame_unit=world["counties"]["A"],
        level=Level.VILLAGE,
        size=5,
        seed=SEED,
    )
    assert visited.code not in draw.frame
    assert len(draw.frame) == 5
    assert Visit.objects.filter(campaign=c, drawn=True).count() == 5
    assert Visit.objects.filter(campaign=c, drawn=False).get().target == visited


def test_conflicted_pairings_are_skipped(world):
    city, v = world["city"], world["villages"]
    county_a, county_b = world["counties"]["A"], world["counties"]["B"]
    town_a = v["A"][0].parent
    # Team X: a member lives in county A; another still holds a post in county D.
    home_a = person(town_a, "张三")
    post_d = person(city, "李四")
    held(post_d, v["D"][0].parent, end=None)
    x = team(city, home_a, post_d, name="X")
    # Team Y: a member left a post in county B three years before the campaign, one left
    # county C six years before (no longer a conflict), one left county D last year.
    three = person(city, "王五")
    held(three, county_b, end=START - timedelta(days=3 * 365))
    six = person(city, "赵六")
    held(six, v["C"][0], end=START - timedelta(days=6 * 365))
    one = person(city, "钱七")
    held(one, v["D"][1], end=START - timedelta(days=365))
    y = team(city, three, six, one, name="Y")

    size = 18  # all of A, B and C: every D village is conflicted for both teams
    draw = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=city,
        level=Level.VILLAGE,
        size=size,
        seed=SEED,
    )
    chosen = target_codes(draw)
    assert set(chosen) == codes(v["A"] + v["B"] + v["C"])
    skipped = [s["unit"] for s in draw.skipped]
    assert skipped
    assert set(skipped) <= codes(v["D"])
    assert {s["reason"] for s in draw.skipped} == {"conflict_of_interest"}
    assert walk(draw.seed, draw.frame, size, set(skipped)) == (chosen, skipped)
    by_team = visits_by_team(draw)
    assert not by_team[x.pk] & codes(v["A"])  # home county
    assert not by_team[y.pk] & codes(v["B"])  # a post three years ago
    assert codes(v["A"]) <= by_team[y.pk]
    assert codes(v["B"]) <= by_team[x.pk]
    for visit in Visit.objects.filter(campaign_id=draw.campaign_id).select_related("target"):
        assert county_of(visit.target) != county_of(county_a) or visit.team_id != x.pk


def test_six_years_ago_and_a_city_home_unit_are_no_conflict(world):
    city, county_c = world["city"], world["counties"]["C"]
    six = person(city, "赵六")
    held(six, world["villages"]["C"][0], end=START - timedelta(days=6 * 365))
    team(city, six, person(city))
    draw = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=county_c,
        level=Level.VILLAGE,
        size=6,
        seed=SEED,
    )
    assert draw.skipped == []
    assert set(target_codes(draw)) == codes(world["villages"]["C"])


def test_fewer_targets_when_the_frame_runs_out_of_units_a_team_may_inspect(world):
    city, v = world["city"], world["villages"]
    local = team(city, person(v["A"][0].parent, "张三"))
    team(city)  # not in the request
    draw = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=city,
        level=Level.VILLAGE,
        size=24,
        seed=SEED,
        teams=[local],
    )
    assert draw.size == 24
    assert set(target_codes(draw)) == codes(v["B"] + v["C"] + v["D"])
    assert {s["unit"] for s in draw.skipped} == codes(v["A"])
    assert Visit.objects.filter(campaign_id=draw.campaign_id, team=local).count() == 18
    assert walk(draw.seed, draw.frame, 24, codes(v["A"])) == (
        target_codes(draw),
        [s["unit"] for s in draw.skipped],
    )


def test_teams_do_not_return_to_the_same_county_in_consecutive_campaigns(world):
    city, v = world["city"], world["villages"]
    x, y = team(city, name="X"), team(city, name="Y")
    older = campaign(city, date(2014, 6, 1), date(2014, 6, 30))
    VisitFactory(campaign=older, team=y, target=v["A"][1])
    VisitFactory(campaign=older, team=x, target=v["B"][1])
    previous = campaign(city, date(2015, 1, 1), date(2015, 1, 31))
    VisitFactory(campaign=previous, team=x, target=v["A"][0])
    VisitFactory(campaign=previous, team=y, target=v["B"][0])
    # Later than `previous` but with only a cancelled visit: not a campaign that was held.
    dropped = campaign(city, date(2015, 3, 1), date(2015, 3, 31))
    VisitFactory(campaign=dropped, team=y, target=v["A"][2], status=VisitStatus.CANCELLED)
    # Another owner's campaign does not count either.
    elsewhere = campaign(world["counties"]["C"], date(2015, 4, 1), date(2015, 4, 30))
    VisitFactory(campaign=elsewhere, team=y, target=v["A"][3])

    to_a = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=world["counties"]["A"],
        level=Level.VILLAGE,
        size=3,
        seed=SEED,
    )
    assert draws.previous_campaign(to_a.campaign) == previous
    assert visits_by_team(to_a) == {y.pk: set(target_codes(to_a))}
    to_b = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=world["counties"]["B"],
        level=Level.VILLAGE,
        size=3,
        seed=SEED,
    )
    assert visits_by_team(to_b) == {x.pk: set(target_codes(to_b))}
    # County C was visited by neither: the load is shared.
    to_c = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=world["counties"]["C"],
        level=Level.VILLAGE,
        size=4,
        seed=SEED,
    )
    assert sorted(len(s) for s in visits_by_team(to_c).values()) == [2, 2]


def test_a_team_returns_when_no_other_team_is_free(world):
    city, v = world["city"], world["villages"]
    x = team(city, name="X")
    y = team(city, person(v["A"][0].parent, "张三"), name="Y")  # conflicted on county A
    previous = campaign(city, date(2015, 1, 1), date(2015, 1, 31))
    VisitFactory(campaign=previous, team=x, target=v["A"][0])
    draw = campaign_draw(
        actor=world["planner"],
        campaign=campaign(city),
        frame_unit=world["counties"]["A"],
        level=Level.VILLAGE,
        size=2,
        seed=SEED,
    )
    assert visits_by_team(draw) == {x.pk: set(target_codes(draw))}
    assert draw.skipped == []
    assert y.pk not in visits_by_team(draw)


def test_the_draw_runs_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    city = world["city"]
    for _ in range(4):
        team(city, *[person(city) for _ in range(3)])
    c = campaign(city)
    with django_assert_max_num_queries(15):
        draw = campaign_draw(
            actor=world["planner"],
            campaign=c,
            frame_unit=city,
            level=Level.VILLAGE,
            size=20,
            seed=SEED,
        )
    assert len(draw.targets) == 20


def test_the_draw_is_audited_as_campaign_draw_without_the_seed(world):
    team(world["city"])
    draw = campaign_draw(
        actor=world["planner"],
        campaign=campaign(world["city"]),
        frame_unit=world["city"],
        level=Level.VILLAGE,
        size=4,
        seed=SEED,
    )
    visit_ids = {
        str(pk)
        for pk in Visit.objects.filter(campaign_id=draw.campaign_id).values_list("pk", flat=True)
    }
    events = AuditEvent.objects.filter(action="campaign.draw")
    assert {e.object_id for e in events.filter(object_type="visit")} == visit_ids
    assert {e.actor_id for e in events} == {world["planner"].pk}
    event = events.get(object_type="draw")
    assert event.after["commitment"] == draw.commitment
    assert event.after["seed"] == "[redacted]"
    assert SEED not in json.dumps([e.after for e in AuditEvent.objects.all()], ensure_ascii=False)


# --- visits added by hand ---------------------------------------------------------------------


def test_a_manual_visit_with_a_conflict_of_interest_is_refused(world):
    city, v = world["city"], world["villages"]
    c = campaign(city)
    crew = team(city, person(v["A"][0].parent, "张三"))
    with pytest.raises(ConflictOfInterest) as caught:
        visit_add(actor=world["planner"], campaign=c, target=v["A"][4], team=crew)
    assert STATUS[caught.value.code] == 409
    assert caught.value.code == "conflict_of_interest"
    assert caught.value.rule == "home_county"
    assert "张三" in str(caught.value.message)
    assert "home_county" in str(caught.value.message)

    former = person(city, "李四")
    held(former, v["B"][0], end=START - timedelta(days=2 * 365))
    other = team(city, former)
    with pytest.raises(ConflictOfInterest) as caught:
        visit_add(actor=world["planner"], campaign=c, target=v["B"][5], team=other)
    assert caught.value.rule == "recent_position"
    assert "李四" in str(caught.value.message)
    assert not Visit.objects.filter(campaign=c).exists()


def test_a_manual_visit_is_not_drawn_and_can_be_repeated(world):
    c = campaign(world["city"])
    crew = team(world["city"])
    target = world["villages"]["C"][2]
    visit_id = uuid.uuid4()
    visit, created = visit_add(
        actor=world["planner"], campaign=c, target=target, team=crew, visit_id=visit_id
    )
    assert created
    assert visit.pk == visit_id
    assert not visit.drawn
    assert visit.status == VisitStatus.PLANNED
    assert visit.window_start == datetime.combine(START, time.min, tzinfo=SHANGHAI)
    again, created = visit_add(
        actor=world["planner"], campaign=c, target=target, team=crew, visit_id=visit_id
    )
    assert (again.pk, created) == (visit_id, False)
    with pytest.raises(Conflict) as caught:
        visit_add(
            actor=world["planner"],
            campaign=c,
            target=target,
            team=team(world["city"]),
            visit_id=visit_id,
        )
    assert caught.value.code == "id_conflict"
    assert AuditEvent.objects.filter(action="visit.add", object_id=str(visit_id)).exists()


def test_a_unit_is_targeted_once_per_campaign(world):
    c = campaign(world["city"])
    crew = team(world["city"])
    target = world["villages"]["C"][2]
    first, _ = visit_add(actor=world["planner"], campaign=c, target=target, team=crew)
    with pytest.raises(Conflict) as caught:
        visit_add(actor=world["planner"], campaign=c, target=target, team=crew)
    assert caught.value.code == "already_targeted"
    assert STATUS[caught.value.code] == 409
    Visit.objects.filter(pk=first.pk).update(status=VisitStatus.CANCELLED)
    visit_add(actor=world["planner"], campaign=c, target=target, team=crew)

    drawn = campaign_draw(
        actor=world["planner"],
        campaign=c,
        frame_unit=world["counties"]["D"],
        level=Level.VILLAGE,
        size=2,
        seed=SEED,
    )
    with pytest.raises(Conflict) as caught:
        visit_add(
            actor=world["planner"],
            campaign=c,
            target=Unit.objects.get(pk=drawn.targets[0]),
            team=crew,
        )
    assert caught.value.code == "already_targeted"


def test_a_manual_visit_window_lies_inside_the_campaign(world):
    c = campaign(world["city"])
    crew = team(world["city"])
    target = world["villages"]["B"][3]
    early = datetime(2015, 5, 31, 23, 0, tzinfo=SHANGHAI)
    with pytest.raises(Invalid) as caught:
        visit_add(actor=world["planner"], campaign=c, target=target, team=crew, window_start=early)
    assert "window_start" in caught.value.errors
    with pytest.raises(Invalid) as caught:
        visit_add(
            actor=world["planner"],
            campaign=c,
            target=target,
            team=crew,
            window_start=datetime(2015, 6, 10, 9, tzinfo=SHANGHAI),
            window_end=datetime(2015, 6, 9, 9, tzinfo=SHANGHAI),
        )
    assert "window_end" in caught.value.errors
    visit, _ = visit_add(
        actor=world["planner"],
        campaign=c,
        target=target,
        team=crew,
        window_start=datetime(2015, 6, 10, 9, tzinfo=SHANGHAI),
        window_end=datetime(2015, 6, 12, 17, tzinfo=SHANGHAI),
    )
    assert visit.window_end == datetime(2015, 6, 12, 17, tzinfo=SHANGHAI)


def test_a_manual_visit_outside_the_campaign_unit_or_by_a_stranger_is_refused(world):
    county_a = world["counties"]["A"]
    c = campaign(county_a)
    crew = team(world["city"])
    with pytest.raises(DomainError) as caught:
        visit_add(actor=world["planner"], campaign=c, target=world["villages"]["B"][0], team=crew)
    assert caught.value.code == "target_outside_campaign"
    with pytest.raises(Forbidden):
        visit_add(
            actor=person(world["counties"]["B"], roles=[Role.PLANNER]),
            campaign=c,
            target=world["villages"]["A"][0],
            team=crew,
        )


# --- the reveal ---------------------------------------------------------------------------------


def test_the_seed_is_revealed_only_after_the_campaign_ends(world):
    city, v = world["city"], world["villages"]
    team(city, person(v["A"][0].parent))  # conflicted on A: A villages are skipped
    c = campaign(city)
    draw = campaign_draw(
        actor=world["planner"], campaign=c, frame_unit=city, level=Level.VILLAGE, size=12, seed=SEED
    )
    for today in (START - timedelta(days=1), START, END):
        with pytest.raises(Conflict) as caught:
            draw_reveal(campaign=c, today=today)
        assert caught.value.code == "draw_sealed"
        assert STATUS[caught.value.code] == 409

    revealed = draw_reveal(campaign=c, today=END + timedelta(days=1))
    json.dumps(revealed)  # ready to be answered as is
    assert hashlib.sha256(revealed["seed"].encode()).hexdigest() == revealed["commitment"]
    assert revealed["commitment"] == draw.commitment
    assert (revealed["frame_unit"], revealed["level"], revealed["size"]) == (
        str(city.pk),
        "village",
        12,
    )
    assert revealed["algorithm"] == "sha256-rank-v1"
    assert revealed["frame"] == draw.frame
    skipped = {s["unit"] for s in revealed["skipped"]}
    assert skipped
    assert skipped <= codes(v["A"])
    taken, met = walk(revealed["seed"], revealed["frame"], revealed["size"], skipped)
    assert taken == [t["code"] for t in revealed["targets"]]
    assert met == [s["unit"] for s in revealed["skipped"]]
    by_code = {u.code: u for u in Unit.objects.filter(code__in=taken)}
    assert revealed["targets"] == [
        {"id": str(by_code[code].pk), "code": code, "name": by_code[code].name} for code in taken
    ]


def test_no_draw_no_reveal(world):
    with pytest.raises(NotFound):
        draw_reveal(campaign=campaign(world["city"]), today=date(2030, 1, 1))


# --- the verifier's command ---------------------------------------------------------------------


def test_rerun_draw_from_a_seed_and_a_frame_file(tmp_path):
    frame = tmp_path / "codes.txt"
    frame.write_text(
        "# the example of docs/DRAW.md\n" + "\n".join(EXAMPLE_DIGESTS) + "\n\n", encoding="utf-8"
    )
    out = StringIO()
    call_command(
        "rerun_draw",
        "--seed",
        SEED,
        "--size",
        "3",
        "--frame-file",
        str(frame),
        stdout=out,
        stderr=StringIO(),
    )
    assert out.getvalue().split() == EXAMPLE_RANKING[:3]
    out, err = StringIO(), StringIO()
    call_command(
        "rerun_draw",
        "--seed",
        SEED,
        "--size",
        "2",
        "--frame-file",
        str(frame),
        "--skip",
        "341322102201",
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().split() == ["341323103201", "341322101201"]
    assert "341322102201" in err.getvalue()


def test_rerun_draw_checks_a_revealed_campaign(world):
    city, v = world["city"], world["villages"]
    team(city, person(v["B"][0].parent))
    ended = campaign(city, date(2015, 3, 1), date(2015, 3, 31))
    draw = campaign_draw(
        actor=world["planner"],
        campaign=ended,
        frame_unit=city,
        level=Level.VILLAGE,
        size=15,
        seed=SEED,
    )
    out = StringIO()
    call_command("rerun_draw", "--campaign", str(ended.pk), stdout=out)
    text = out.getvalue()
    assert "OK" in text
    assert draw.commitment in text
    for s in draw.skipped:
        assert f"{s['unit']}  skipped: conflict_of_interest" in text

    Draw.objects.filter(pk=draw.pk).update(targets=list(reversed(draw.targets)))
    with pytest.raises(CommandError, match="differ"):
        call_command("rerun_draw", "--campaign", str(ended.pk), stdout=StringIO())

    today = date.today()
    running = campaign(city, today - timedelta(days=1), today + timedelta(days=30))
    campaign_draw(
        actor=world["planner"],
        campaign=running,
        frame_unit=city,
        level=Level.VILLAGE,
        size=1,
        seed=SEED,
    )
    with pytest.raises(CommandError):
        call_command("rerun_draw", "--campaign", str(running.pk), stdout=StringIO())
