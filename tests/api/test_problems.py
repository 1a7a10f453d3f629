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
