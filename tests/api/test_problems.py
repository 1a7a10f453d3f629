"""Every non-2xx answer under /api/ is problem+json, never HTML or a traceback."""

import json

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.views import APIView

from audits.models import AuditEvent, Unit
from tests.conftest import bearer
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def assert_problem(answer, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status
    assert answer["Content-Type"] == "application/problem+json"
    body = json.loads(answer.content)
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    if code:
        assert body["code"] == code
    text = answer.content.decode()
    assert "Traceback" not in text
    assert "<html" not in text.lower()
    return body


class Explodes(APIView):
    def get(self, request):
        Unit.objects.create(code="555000000001", name="半截", level="city")
        raise ZeroDivisionError("secret internals")


urlpatterns = [path("api/v1/explode", Explodes.as_view())]


@pytest.fixture
def planner():
    return UserFactory()


def test_401_without_credentials(api):
    assert_problem(api.get("/api/v1/me"), 401, "not_authenticated")


def test_404_unknown_path_and_unknown_object(planner):
    client = bearer(planner)
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(client.get("/api/v1/units/00000000-0000-0000-0000-000000000000"), 404)


def test_404_for_anonymous_on_unknown_path(api):
    assert_problem(api.get("/api/v1/nothing-here"), 404)


def test_405(planner):
    assert_problem(bearer(planner).delete("/api/v1/me"), 405, "method_not_allowed")


def test_403_users_list_for_non_planners():
    inspector = UserFactory(roles=["inspector"])
    assert_problem(bearer(inspector).get("/api/v1/users"), 403, "permission_denied")


def test_415_wrong_media_type(api):
    answer = api.post("/api/v1/auth/token", "username=x", content_type="text/plain")
    assert_problem(answer, 415, "unsupported_media_type")


def test_400_malformed_json(api):
    answer = api.post("/api/v1/auth/token", '{"username": "x",', content_type="application/json")
    assert_problem(answer, 400, "parse_error")


def test_400_nan_is_not_json(api):
    answer = api.post("/api/v1/auth/token", '{"username": NaN}', content_type="application/json")
    assert_problem(answer, 400, "parse_error")


@pytest.mark.parametrize("depth", [100, 100_000])
def test_400_deeply_nested_body_changes_nothing(api, depth):
    start = AuditEvent.objects.count()
    body = '{"username": ' + "[" * depth + "]" * depth + ', "password": "x", "device_id": "d"}'
    answer = api.post("/api/v1/auth/token", body, content_type="application/json")
    assert_problem(answer, 400, "too_deep")
    assert AuditEvent.objects.count() == start


def test_413_ten_megabyte_body_changes_nothing(api):
    start = AuditEvent.objects.count()
    body = json.dumps({"username": "x" * (10 * 1024 * 1024), "password": "p", "device_id": "d"})
    answer = api.post("/api/v1/auth/token", body, content_type="application/json")
    assert_problem(answer, 413, "payload_too_large")
    assert AuditEvent.objects.count() == start


def test_400_unknown_enum_value_in_filter(planner):
    body = assert_problem(bearer(planner).get("/api/v1/units?level=galaxy"), 400)
    assert "level" in body["errors"]


def test_400_wrong_type_in_filter(planner):
    body = assert_problem(bearer(planner).get("/api/v1/units?parent=not-a-uuid"), 400)
    assert "parent" in body["errors"]


@pytest.mark.parametrize("debug", [False, True])
def test_500_is_problem_json_and_rolls_back(settings, debug, planner):
    settings.DEBUG = debug
    client = bearer(planner)
    client.raise_request_exception = False
    with override_settings(ROOT_URLCONF="tests.api.test_problems_urls"):
        answer = client.get("/api/v1/explode")
    body = assert_problem(answer, 500, "server_error")
    assert "secret internals" not in json.dumps(body)
    assert not Unit.objects.filter(code="555000000001").exists()


def test_english_through_accept_language(api):
    answer = api.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    body = assert_problem(answer, 401)
    assert body["title"] == "Not authenticated"
    chinese = assert_problem(api.get("/api/v1/me"), 401)
    assert chinese["title"] == "未认证"


def test_chinese_text_round_trips_unescaped(planner):
    UnitFactory(name="萧县龙城镇")
    answer = bearer(planner).get("/api/v1/units?q=龙城")
    assert "萧县龙城镇".encode() in answer.content


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_problem_json_with_debug_on_and_off(settings, api, debug):
    settings.DEBUG = debug
    body = assert_problem(api.get("/api/v1/no/such/thing"), 404, "not_found")
    assert "urlpatterns" not in json.dumps(body)


# --- hostile dates in bodies: every date or time a client sends, each bad value -----------

NOW_BAD = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-01-01T00:00:00+08:00"]


def _dated_world():
    from audits.choices import Role
    from tests.factories import (
        CampaignFactory,
        ChecklistItemFactory,
        FindingFactory,
        TeamFactory,
        VisitFactory,
        tree,
    )

    units = tree()
    planner = UserFactory(unit=units["city"], roles=[Role.PLANNER])
    lead = UserFactory(unit=units["city"], roles=[Role.TEAM_LEAD])
    team = TeamFactory(lead=lead)
    campaign = CampaignFactory(unit=units["city"])
    item = ChecklistItemFactory(checklist=campaign.checklist)
    return {
        "units": units,
        "planner": planner,
        "lead": lead,
        "team": team,
        "campaign": campaign,
        "item": item,
        "visit": lambda **kw: VisitFactory(campaign=campaign, team=team, **kw),
        "finding": lambda visit, **kw: FindingFactory(visit=visit, checklist_item=item, **kw),
    }


def _campaign_row(w, field):
    from datetime import date, timedelta

    today = date.today()
    other = {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat()}

    def body(value):
        return {
            "title": "日期测试",
            "mode": "unannounced",
            "unit": str(w["units"]["city"].pk),
            "checklist": str(w["campaign"].checklist_id),
            **other,
            field: value,
        }

    extra = [
        (today - timedelta(days=3 * 365)).isoformat(),
        (today + timedelta(days=6 * 365)).isoformat(),
    ]
    good = other[field]
    return "post", "/api/v1/campaigns", body, {}, extra, good


def _visit_window_row(w, field, patch):
    import uuid
    from datetime import timedelta

    from audits.services.draws import campaign_days

    first, last = campaign_days(w["campaign"])
    visit = w["visit"]()
    outside = [(first - timedelta(hours=1)).isoformat(), (last + timedelta(hours=1)).isoformat()]
    if field == "window_start":
        outside = [outside[0]]  # a start after the campaign's end is the end's error too
    good = (first + timedelta(days=1)).isoformat()
    if patch:
        return (
            "patch",
            f"/api/v1/visits/{visit.pk}",
            lambda value: {field: value},
            {"HTTP_IF_MATCH": '"1"'},
            outside,
            good,
        )
    target = w["units"]["village_b"]

    def body(value):
        return {
            "id": str(uuid.uuid4()),
            "campaign": str(w["campaign"].pk),
            "target": str(target.pk),
            "team": str(w["team"].pk),
            field: value,
        }

    return "post", "/api/v1/visits", body, {}, outside, good


def _check_in_row(w):
    from datetime import timedelta

    from django.utils import timezone

    visit = w["visit"]()
    now = timezone.now()
    extra = [
        *NOW_BAD,
        (visit.window_start - timedelta(days=2)).isoformat(),
        (visit.window_end + timedelta(days=2)).isoformat(),
        (now + timedelta(hours=1)).isoformat(),
    ]
    return (
        "post",
        f"/api/v1/visits/{visit.pk}/check-in",
        lambda value: {"lat": 34.0, "lon": 117.0, "at": value},
        {},
        extra,
        now.isoformat(),
    )


def _observed_row(w, patch):
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    visit = w["visit"](status="in_progress", checked_in_at=timezone.now())
    now = timezone.now()
    extra = [
        *NOW_BAD,
        (visit.window_start - timedelta(days=2)).isoformat(),
        (visit.window_end + timedelta(days=2)).isoformat(),
        (now + timedelta(hours=1)).isoformat(),
    ]
    if patch:
        finding = w["finding"](visit)
        return (
            "patch",
            f"/api/v1/findings/{finding.pk}",
            lambda value: {"observed_at": value},
            {"HTTP_IF_MATCH": '"1"'},
            extra,
            now.isoformat(),
        )

    def body(value):
        return {
            "id": str(uuid.uuid4()),
            "visit": str(visit.pk),
            "checklist_item": str(w["item"].pk),
            "severity": "minor",
            "title": "日期测试",
            "observed_at": value,
        }

    return "post", "/api/v1/findings", body, {}, extra, now.isoformat()


def _rectify_row(w, verb):
    from datetime import date, timedelta

    from django.utils import timezone

    from audits.models import Rectification

    visit = w["visit"](status="closed", closed_at=timezone.now())
    today = date.today()
    extra = [
        today.isoformat(),
        (today - timedelta(days=1)).isoformat(),
        (today + timedelta(days=3 * 365)).isoformat(),
    ]
    good = (today + timedelta(days=30)).isoformat()
    if verb == "publish":
        finding = w["finding"](visit, status="confirmed")
        return (
            "post",
            f"/api/v1/findings/{finding.pk}/publish",
            lambda value: {"rectify_by": value},
            {},
            extra,
            good,
        )
    finding = w["finding"](
        visit, status="rectification_submitted", rectify_by=today + timedelta(days=10)
    )
    Rectification.objects.create(finding=finding, report="已整改", submitted_by=w["planner"])
    return (
        "post",
        f"/api/v1/findings/{finding.pk}/verify",
        lambda value: {"accepted": False, "comment": "退回", "rectify_by": value},
        {},
        extra,
        good,
    )


def _bulletin_row(w, field):
    from datetime import date, timedelta

    today = date.today()
    other = {
        "period_start": (today - timedelta(days=30)).isoformat(),
        "period_end": (today - timedelta(days=1)).isoformat(),
    }

    def body(value):
        return {"unit": str(w["units"]["city"].pk), **other, field: value}

    extra = {
        # after the end, or too long before it
        "period_start": [today.isoformat(), (today - timedelta(days=400)).isoformat()],
        # after today, or before the start
        "period_end": [
            (today + timedelta(days=1)).isoformat(),
            (today - timedelta(days=31)).isoformat(),
        ],
    }[field]
    return "post", "/api/v1/bulletins", body, {}, extra, other[field]


# Every date or time of a request body in the OpenAPI document, by "method path field";
# test_every_date_in_a_request_body_is_in_the_table keeps this complete.
DATED_FIELDS = {
    "post /api/v1/campaigns starts_on": ("planner", lambda w: _campaign_row(w, "starts_on")),
    "post /api/v1/campaigns ends_on": ("planner", lambda w: _campaign_row(w, "ends_on")),
    "post /api/v1/visits window_start": (
        "planner",
        lambda w: _visit_window_row(w, "window_start", False),
    ),
    "post /api/v1/visits window_end": (
        "planner",
        lambda w: _visit_window_row(w, "window_end", False),
    ),
    "patch /api/v1/visits/{id} window_start": (
        "planner",
        lambda w: _visit_window_row(w, "window_start", True),
    ),
    "patch /api/v1/visits/{id} window_end": (
        "planner",
        lambda w: _visit_window_row(w, "window_end", True),
    ),
    "post /api/v1/visits/{id}/check-in at": ("lead", _check_in_row),
    "post /api/v1/findings observed_at": ("lead", lambda w: _observed_row(w, False)),
    "patch /api/v1/findings/{id} observed_at": ("lead", lambda w: _observed_row(w, True)),
    "post /api/v1/findings/{id}/publish rectify_by": (
        "planner",
        lambda w: _rectify_row(w, "publish"),
    ),
    "post /api/v1/findings/{id}/verify rectify_by": (
        "planner",
        lambda w: _rectify_row(w, "verify"),
    ),
    "post /api/v1/bulletins period_start": (
        "planner",
        lambda w: _bulletin_row(w, "period_start"),
    ),
    "post /api/v1/bulletins period_end": ("planner", lambda w: _bulletin_row(w, "period_end")),
}


def _dates_in(schema: dict, components: dict, prefix: str = ""):
    if "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    if schema.get("format") in ("date", "date-time"):
        yield prefix
    for name, sub in schema.get("properties", {}).items():
        yield from _dates_in(sub, components, f"{prefix}.{name}" if prefix else name)
    if "items" in schema:
        yield from _dates_in(schema["items"], components, f"{prefix}[]")
    for sub in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _dates_in(sub, components, prefix)


def test_every_date_in_a_request_body_is_in_the_table(api):
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)
    components = schema["components"]["schemas"]
    found = set()
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for field in _dates_in(content["schema"], components):
                    found.add(f"{method} {route} {field}")
    assert found, "the walk found no dates at all"
    assert found - set(DATED_FIELDS) == set(), "add these to DATED_FIELDS"


@pytest.mark.parametrize("name", sorted(DATED_FIELDS))
def test_every_date_in_a_body_refuses_every_bad_value_by_name(name):
    from tests.hostile import DATES

    who, build = DATED_FIELDS[name]
    field = name.rsplit(" ", 1)[1]
    w = _dated_world()
    method, url, body, headers, extra, good = build(w)
    client = bearer(w[who])
    wrong = []
    for value in [*DATES, *extra]:
        answer = getattr(client, method)(url, body(value), format="json", **headers)
        if answer.status_code != 400:
            wrong.append(f"{value!r}: {answer.status_code}")
            continue
        errors = assert_problem(answer, 400).get("errors", {})
        if field not in errors:
            wrong.append(f"{value!r}: errors {errors}")
    assert wrong == [], "\n".join(wrong)
    # The same request with a sane value is accepted: the refusals above were the date's.
    answer = getattr(client, method)(url, body(good), format="json", **headers)
    assert answer.status_code in (200, 201, 202), answer.content
