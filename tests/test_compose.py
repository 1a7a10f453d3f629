"""docker-compose.yml describes the production-like stack; no Docker engine is needed to check it."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY$")
REFERENCE = re.compile(r"\$\{[A-Z_]+:\?[^}]*\}")  # ${NAME:?message}: required, no default


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_of(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def mounts_of(service: dict) -> dict[str, str]:
    """Named-volume mounts as {volume: target} (short syntax `volume:/path[:mode]`)."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts


def test_the_five_services_exist(services):
    assert {"postgres", "redis", *APP_SERVICES} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")


def test_web_worker_and_beat_run_one_image_built_from_our_dockerfile(services):
    builds = {
        (str(services[name].get("build")), services[name].get("image")) for name in APP_SERVICES
    }
    assert len(builds) == 1
    build, _image = builds.pop()
    assert build == "."
    assert "FROM python:3.11-slim" in (ROOT / "Dockerfile").read_text()


def test_each_app_service_runs_its_own_process(services):
    assert "gunicorn" in command_of(services["web"])
    assert re.search(r"celery .*\bworker\b", command_of(services["worker"]))
    assert re.search(r"celery .*\bbeat\b", command_of(services["beat"]))


def test_migrations_run_once_before_the_app_starts(services):
    assert "migrate" in command_of(services["migrate"])
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_health_checks(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_database_redis_and_media_live_in_declared_named_volumes(compose, services):
    declared = set(compose["volumes"])
    assert mounts_of(services["postgres"]).get("pgdata") == "/var/lib/postgresql/data"
    assert mounts_of(services["redis"]).get("redisdata") == "/data"
    media_root = services["web"]["environment"]["MEDIA_ROOT"]
    for name in ("web", "worker"):
        assert mounts_of(services[name]).get("media") == media_root
    used = {volume for service in services.values() for volume in mounts_of(service)}
    assert used <= declared
    assert {"pgdata", "redisdata", "media"} <= declared


def test_no_literal_secrets(services):
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and value is not None:
                assert REFERENCE.fullmatch(str(value)), f"{name}.{key} is not a required ${{...}}"
    url = services["web"]["environment"]["DATABASE_URL"]
    password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert REFERENCE.fullmatch(password)
    assert REFERENCE.search(services["web"]["environment"]["REDIS_URL"])
    assert services["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_the_audit_keys_are_required_like_the_secret_key(services):
    """Production does not run on keys derived from SECRET_KEY (docs/AUDIT.md)."""
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        for key in ("AUDIT_HMAC_KEY", "AUDIT_SIGNING_KEY"):
            assert str(environment.get(key)).startswith(f"${{{key}:?"), f"{name}.{key}"


def test_gunicorn_reads_the_projects_config(services):
    """gunicorn.conf.py is read from the directory gunicorn starts in: the image's WORKDIR."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "WORKDIR /app" in dockerfile
    assert "gunicorn.conf.py" not in (ROOT / ".dockerignore").read_text().split()
    assert "limit_request_line = 8190" in (ROOT / "gunicorn.conf.py").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    for command in (command_of(services["web"]), cmd):
        assert "gunicorn" in command
        assert " -c " not in command
        assert "--config" not in command
