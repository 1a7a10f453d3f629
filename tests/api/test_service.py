"""Health, the OpenAPI document and its docs page."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_healthz_ok_when_database_and_broker_answer(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_healthz_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"database": "ok", "broker": "down"}


def test_openapi_describes_the_foundation_endpoints(client):
    answer = client.get("/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/officials",
        "/api/v1/users",
    ]:
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/v1/units"]["get"]["parameters"]}
    assert {"parent", "level", "q", "cursor"} <= params
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_docs_page_is_served(client):
    answer = client.get("/api/docs/")
    assert answer.status_code == 200
    assert b"/api/schema/" in answer.content


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "bearerAuth" in (tmp_path / "schema.yml").read_text()
