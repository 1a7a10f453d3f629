"""Factories for the domain's rows (factory-boy); tests build what they need, no fixture files."""

import uuid
from datetime import date, timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from audits.choices import FindingStatus, Level, Mode, Role, Severity, Title, VisitStatus
from audits.models import (
    Campaign,
    Checklist,
    ChecklistItem,
    Finding,
    Official,
    Position,
    Team,
    Unit,
    User,
    Visit,
)

PASSWORD = "test-pass-2015"
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = make_password(PASSWORD)
    return _HASH


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"9{n:011d}")
    name = factory.Sequence(lambda n: f"测试单位{n}")
    level = Level.CITY
    parent = None
    lat = 33.6
    lon = 117.0


def tree() -> dict[str, Unit]:
    """A small tree: city → two counties → a township each → a village each."""
    city = UnitFactory(level=Level.CITY, name="测试市")
    county_a = UnitFactory(level=Level.COUNTY, parent=city, name="甲县")
    county_b = UnitFactory(level=Level.COUNTY, parent=city, name="乙县")
    town_a = UnitFactory(level=Level.TOWNSHIP, parent=county_a, name="甲镇")
    town_b = UnitFactory(level=Level.TOWNSHIP, parent=county_b, name="乙镇")
    village_a = UnitFactory(level=Level.VILLAGE, parent=town_a, name="甲村")
    village_b = UnitFactory(level=Level.VILLAGE, parent=town_b, name="乙村")
    return {
        "city": city,
        "county_a": county_a,
        "county_b": county_b,
        "town_a": town_a,
        "town_b": town_b,
        "village_a": village_a,
        "village_b": village_b,
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    roles = factory.LazyFunction(lambda: [Role.PLANNER])
    unit = factory.SubFactory(UnitFactory)
    password = factory.LazyFunction(password_hash)


class OfficialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Official

    name = factory.Sequence(lambda n: f"干部{n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    official = factory.SubFactory(OfficialFactory)
    unit = factory.SubFactory(UnitFactory)
    title = Title.PARTY_SECRETARY
    start = date(2012, 1, 1)
    end = None


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"暗访组{n}")
    lead = factory.SubFactory(UserFactory, roles=[Role.TEAM_LEAD])
    owner_unit = factory.SelfAttribute("lead.unit")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create:
            self.members.set([self.lead, *(extracted or [])])


class ChecklistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Checklist

    title = factory.Sequence(lambda n: f"检查清单{n}")
    owner_unit = factory.SubFactory(UnitFactory)


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChecklistItem

    checklist = factory.SubFactory(ChecklistFactory)
    code = factory.Sequence(lambda n: f"ITEM-{n}")
    category = "阵地建设"
    text = "村级组织活动场所面积不低于200平方米"
    threshold = 200
    unit_of_measure = "㎡"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    id = factory.LazyFunction(uuid.uuid4)
    title = factory.Sequence(lambda n: f"2015年度基层党建暗访{n}")
    mode = Mode.UNANNOUNCED
    unit = factory.SubFactory(UnitFactory)
    starts_on = factory.LazyFunction(lambda: date.today() - timedelta(days=5))
    ends_on = factory.LazyFunction(lambda: date.today() + timedelta(days=25))
    checklist = factory.SubFactory(ChecklistFactory, owner_unit=factory.SelfAttribute("..unit"))


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    id = factory.LazyFunction(uuid.uuid4)
    campaign = factory.SubFactory(CampaignFactory)
    target = factory.SubFactory(UnitFactory, level=Level.VILLAGE)
    team = factory.SubFactory(TeamFactory)
    window_start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    window_end = factory.LazyFunction(lambda: timezone.now() + timedelta(days=25))
    status = VisitStatus.PLANNED


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    id = factory.LazyFunction(uuid.uuid4)
    visit = factory.SubFactory(VisitFactory, status=VisitStatus.IN_PROGRESS)
    checklist_item = factory.SubFactory(
        ChecklistItemFactory, checklist=factory.SelfAttribute("..visit.campaign.checklist")
    )
    severity = Severity.MAJOR
    title = factory.Sequence(lambda n: f"活动场所面积不足{n}")
    description = "实测面积小于标准"
    responsible_unit = factory.SelfAttribute("visit.target")
    observed_at = factory.LazyFunction(timezone.now)
    status = FindingStatus.DRAFT
    created_by = factory.SelfAttribute("visit.team.lead")
