"""Bulletin numbers under a race: issues at the same instant on two server processes
(gunicorn -w 2) get consecutive numbers, no gap, no duplicate; one draft issued twice at once
is issued once."""

import threading
import time

import psycopg
import pytest
import requests
from django.conf import settings

from audits.models import Bulletin, BulletinCounter
from audits.services import trail
from tests.bulletins.helpers import compiled, request, world
from tests.conftest import bearer
from tests.faults.test_idempotency_race import _dsn, _token, serve

pytestmark = pytest.mark.django_db(transaction=True)


class CounterWaits:
    """Watches pg_locks for an issue waiting on another one's locked counter row."""

    def __init__(self) -> None:
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with psycopg.connect(_dsn(), autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                    " WHERE l.locktype = 'transactionid' AND NOT l.granted"
                    " AND a.query ILIKE '%audits_bulletincounter%'"
                ).fetchone()
                self.seen += bool(row[0])
                time.sleep(0.01)

    def __enter__(self) -> "CounterWaits":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def at_once(base: str, token: str, ids: list[str]) -> list[requests.Response]:
    """POST /issue for each id, from as many threads released together."""
    barrier = threading.Barrier(len(ids))
    answers: list = [None] * len(ids)

    def send(slot: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            answers[slot] = session.post(
                f"{base}/api/v1/bulletins/{ids[slot]}/issue",
                timeout=120,
                headers={"Authorization": token},
            )

    threads = [threading.Thread(target=send, args=(slot,)) for slot in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_issues_at_the_same_instant_on_two_processes_number_without_gaps_or_duplicates():
    w = world(photos=False)
    first = compiled(request(bearer(w.planner_city), w).json()["id"])
    # Four more drafts with the same snapshot: a compile each would only take time.
    drafts = [str(first.pk)] + [
        str(
            Bulletin.objects.create(
                issuer=first.issuer,
                unit=first.unit,
                period_start=first.period_start,
                period_end=first.period_end,
                title=f"{first.title}（{n}）",
                status="draft",
                content=first.content,
                requested_by=first.requested_by,
            ).pk
        )
        for n in range(2, 6)
    ]
    trail.trail_seal()
    token = _token(w.planner_city)
    with serve(MEDIA_ROOT=str(settings.MEDIA_ROOT)) as base, CounterWaits() as waits:
        numbers = []
        for pair in (drafts[0:2], drafts[2:4]):
            answers = at_once(base, token, pair)
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            numbers += [a.json()["number"] for a in answers]
        # One draft issued from both processes at once: issued once.
        twice = at_once(base, token, [drafts[4], drafts[4]])
        codes = sorted(a.status_code for a in twice)
        assert codes == [200, 409], [a.text for a in twice]
        refused = next(a for a in twice if a.status_code == 409).json()
        assert refused["code"] in {"already_issued", "bulletin_busy"}
        numbers.append(next(a for a in twice if a.status_code == 200).json()["number"])
    assert sorted(numbers) == [1, 2, 3, 4, 5]
    assert waits.seen, "no issue was ever seen waiting for another one's number"
    rows = Bulletin.objects.filter(pk__in=drafts)
    assert sorted(rows.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert set(rows.values_list("status", flat=True)) == {"issued"}
    assert BulletinCounter.objects.get(issuer=w.units["city"]).last == 5
