"""Every change of state leaves an audit event in the same transaction, whoever makes it."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from audits.models import AuditEvent, DeviceSession, Unit
from audits.trail import context, sql
from tests.conftest import ROOT, bearer, database_url_for
from tests.factories import PASSWORD, UnitFactory, UserFactory


def events_after(seq: int, **filters):
    return AuditEvent.objects.filter(seq__gt=seq, **filters).order_by("seq")


def head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.mark.django_db
def test_every_table_of_the_domain_is_audited():
    tables = set()
    for model in apps.get_app_config("audits").get_models(include_auto_created=True):
        if model._meta.managed:
            tables.add(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = 'audit_capture'"
        )
        audited = {row[0] for row in cursor.fetchall()}
    assert tables - audited - sql.UNAUDITED_TABLES == set()
    assert "audits_team_members" in audited


@pytest.mark.django_db
def test_api_change_names_actor_ip_device_and_request(api):
    user = UserFactory(username="planner1")
    start = head()
    answer = api.post(
        "/api/v1/auth/token",
        {"username": "planner1", "password": PASSWORD, "device_id": "pad-7"},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert answer.status_code == 200
    assert answer["X-Request-ID"] == "req-42"
    event = events_after(start, object_type="device_session").get()
    assert event.action == "auth.login"
    assert event.operation == "create"
    assert event.actor_id == user.pk
    assert event.actor_label == "planner1"
    assert event.device_id == "pad-7"
    assert event.request_id == "req-42"
    assert event.ip == "127.0.0.1"
    assert event.after["refresh_jti"] == "[redacted]"


@pytest.mark.django_db
def test_queryset_update_and_bulk_create_are_captured_with_changed_fields_only():
    actor = UserFactory()
    city = UnitFactory(name="旧名")
    start = head()
    with context.user_context(actor), context.action("unit.rename"):
        Unit.objects.filter(pk=city.pk).update(name="新名")
        Unit.objects.bulk_create(
            [Unit(code="777000000001", name="批量", level="city", path="777000000001/")]
        )
    update, create = events_after(start)
    assert update.action == "unit.rename"
    assert update.operation == "update"
    assert update.before == {"name": "旧名"}
    assert update.after == {"name": "新名"}
    assert update.actor_id == actor.pk
    assert create.operation == "create"
    assert create.after["name"] == "批量"


@pytest.mark.django_db
def test_an_update_that_changes_nothing_is_not_an_event():
    unit = UnitFactory()
    start = head()
    Unit.objects.filter(pk=unit.pk).update(name=unit.name)
    assert not events_after(start).exists()


@pytest.mark.django_db
def test_password_values_never_reach_the_trail():
    user = UserFactory()
    start = head()
    user.set_password("another-secret-123")
    user.save()
    event = events_after(start, object_type="user").get()
    assert event.after == {"password": "[redacted]"}
    assert "another-secret" not in str(event.before) + str(event.after)


@pytest.mark.django_db
def test_a_change_that_fails_leaves_no_event():
    unit = UnitFactory(name="原名")
    start = head()
    with pytest.raises(RuntimeError), transaction.atomic():
        Unit.objects.filter(pk=unit.pk).update(name="半途")
        raise RuntimeError("the service failed after writing")
    assert not events_after(start).exists()
    unit.refresh_from_db()
    assert unit.name == "原名"


@pytest.mark.django_db
def test_context_after_a_rolled_back_transaction_is_applied_again():
    """A rollback also undoes the SET of the context: the next write must set it again."""
    actor = UserFactory()
    unit = UnitFactory()
    start = head()
    with context.user_context(actor):
        with pytest.raises(RuntimeError), transaction.atomic():
            Unit.objects.filter(pk=unit.pk).update(name="甲")
            raise RuntimeError
        Unit.objects.filter(pk=unit.pk).update(name="乙")
    assert events_after(start).get().actor_id == actor.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'forged'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ],
)
def test_the_application_role_cannot_change_events(statement):
    UnitFactory()
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action="forged").exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_outside_the_application_is_an_event_without_actor():
    unit = UnitFactory(name="库外")
    start = head()
    dsn = database_url_for(connection.settings_dict["NAME"])
    with psycopg.connect(dsn.replace("postgres://", "postgresql://", 1), autocommit=True) as raw:
        raw.execute("UPDATE audits_unit SET name = %s WHERE id = %s", ("手工", unit.pk))
    event = events_after(start).get()
    assert event.actor_id is None
    assert event.actor_label == ""
    assert event.action == "unit.update"
    assert event.after == {"name": "手工"}


@pytest.mark.django_db(transaction=True)
def test_a_management_command_is_the_named_job():
    start = head()
    env = dict(
        os.environ,
        DATABASE_URL=database_url_for(connection.settings_dict["NAME"]),
        DJANGO_SUPERUSER_PASSWORD="a-long-enough-pass",
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "root2",
            "--email",
            "root2@example.org",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    event = events_after(start, object_type="user").get()
    assert event.actor_label == "job:manage.py createsuperuser"
    assert event.actor_id is None
    assert event.after["username"] == "root2"


@pytest.mark.worker
def test_a_worker_task_is_the_named_job(celery_worker):
    from workers.accounts import expire_idle_device_sessions

    user = UserFactory()
    stale = DeviceSession.objects.create(user=user, device_id="old", refresh_jti="x")
    DeviceSession.objects.filter(pk=stale.pk).update(
        refreshed_at=timezone.now() - timedelta(days=400)
    )
    start = head()
    expire_idle_device_sessions.apply_async(queue=celery_worker.queue)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not events_after(start).exists():
        time.sleep(0.2)
    event = events_after(start).get()
    assert event.actor_label == "job:workers.accounts.expire_idle_device_sessions"
    assert event.action == "auth.session_expired"
    assert event.object_id == str(stale.pk)
    stale.refresh_from_db()
    assert stale.revoked_reason == "idle"


@pytest.mark.django_db
def test_an_admin_change_is_attributed_to_the_signed_in_user(client):
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True)
    unit = UnitFactory(name="后台前")
    client.post("/accounts/login/", {"username": "boss", "password": PASSWORD})
    start = head()
    answer = client.post(
        f"/admin/audits/unit/{unit.pk}/change/",
        {
            "code": unit.code,
            "name": "后台后",
            "level": unit.level,
            "parent": "",
            "lat": "33.6",
            "lon": "117.0",
            "version": "1",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    event = events_after(start, object_type="unit").get()
    assert event.actor_id == admin.pk
    assert event.before["name"] == "后台前"
    assert event.after["name"] == "后台后"


@pytest.mark.django_db
def test_api_reads_write_no_events():
    user = UserFactory()
    client = bearer(user)
    start = head()
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/units").status_code == 200
    assert not events_after(start).exists()
