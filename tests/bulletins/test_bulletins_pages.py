"""The leadership pages' refusals, through Django's test client: who may open what, and what
a stale or busy draft, a long text and a bad period get. (The flows themselves run in
Chromium: tests/browser/test_bulletin_pages.py.)"""

import psycopg
import pytest
from django.test import Client

from audits.models import Bulletin
from tests.bulletins.helpers import compiled, days_ago, request, world
from tests.conftest import bearer
from tests.faults.test_idempotency_race import _dsn


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_draft(w) -> Bulletin:
    created = request(bearer(w.planner_city), w).json()
    return compiled(created["id"])


@pytest.mark.django_db
def test_pages_are_for_their_roles_and_bulletins_for_who_may_see_them():
    w = world(photos=False)
    bulletin = a_draft(w)
    assert Client().get("/leadership/").status_code == 302  # sign in first
    inspector = signed_in(w.inspector)
    assert inspector.get("/leadership/").status_code == 404
    assert inspector.get("/bulletins/new/").status_code == 404
    assert inspector.get("/bulletins/").status_code == 200  # an (empty) inbox
    for path in ("", "pdf", "docx"):
        assert inspector.get(f"/bulletins/{bulletin.pk}/{path}").status_code == 404
    # A leader does not see drafts; the planner does, with the edit form.
    assert signed_in(w.leader_city).get(f"/bulletins/{bulletin.pk}/").status_code == 404
    page = signed_in(w.planner_city).get(f"/bulletins/{bulletin.pk}/")
    assert page.status_code == 200
    assert b'id="edit-form"' in page.content
    pdf = signed_in(w.planner_city).get(f"/bulletins/{bulletin.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_the_forms_show_what_was_refused_and_change_nothing():
    w = world(photos=False)
    bulletin = a_draft(w)
    planner = signed_in(w.planner_city)
    form = {"version": bulletin.version, "title": bulletin.title, "requirements": "要" * 20_001}
    answer = planner.post(f"/bulletins/{bulletin.pk}/edit/", form)
    assert answer.status_code == 400
    assert "20000" in answer.content.decode()
    form = {"version": bulletin.version - 1, "title": "改", "requirements": ""}
    answer = planner.post(f"/bulletins/{bulletin.pk}/edit/", form)
    assert answer.status_code == 412
    assert "对象已被修改，请刷新后重试。" in answer.content.decode()
    assert Bulletin.objects.get(pk=bulletin.pk).title == bulletin.title

    wrong = {
        "unit": w.units["city"].pk,
        "period_start": days_ago(3).isoformat(),
        "period_end": days_ago(9).isoformat(),
    }
    answer = planner.post("/bulletins/new/", wrong)
    assert answer.status_code == 400
    assert "截止日期不能早于起始日期。" in answer.content.decode()
    county = signed_in(w.planner_county)
    answer = county.post("/bulletins/new/", {**wrong, "period_start": days_ago(20).isoformat()})
    assert answer.status_code == 400  # the city is not among the county planner's choices
    answer = signed_in(w.leader_city).get("/leadership/?start=2015-06-30&end=2015-01-01")
    assert answer.status_code == 400
    assert Bulletin.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_draft_another_planner_is_saving_is_refused_with_a_clear_message():
    w = world(photos=False)
    bulletin = a_draft(w)
    with psycopg.connect(_dsn()) as other:  # another planner's request, mid-save
        other.execute("SELECT 1 FROM audits_bulletin WHERE id = %s FOR UPDATE", [bulletin.pk])
        page = signed_in(w.planner_city).post(
            f"/bulletins/{bulletin.pk}/issue/", {"version": bulletin.version}
        )
        assert page.status_code == 409
        assert "另一位经办人正在修改这份通报草稿" in page.content.decode()
        api = bearer(w.planner_city)
        answer = api.post(f"/api/v1/bulletins/{bulletin.pk}/issue")
        assert answer.status_code == 409
        assert answer.json()["code"] == "bulletin_busy"
        patched = api.patch(
            f"/api/v1/bulletins/{bulletin.pk}",
            {"requirements": "改"},
            format="json",
            HTTP_IF_MATCH=f'"{bulletin.version}"',
        )
        assert patched.json()["code"] == "bulletin_busy"
        other.rollback()
    row = Bulletin.objects.get(pk=bulletin.pk)
    assert (row.status, row.version, row.number) == ("draft", bulletin.version, None)
