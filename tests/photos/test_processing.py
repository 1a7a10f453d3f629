"""What processing finds and makes, run in-process (the worker calls the same function)."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from audits.choices import FindingStatus, Role, VisitStatus
from audits.models import OutboxMessage, Photo
from audits.services.photos import processing as service
from tests.conftest import bearer
from tests.factories import FindingFactory, UserFactory
from tests.photos.helpers import TARGET, post_photo, stored_files, temp_files, world
from tests.photos.make_corpus import HOSTILE, camera_jpeg, exif_bytes, jpeg, noise

pytestmark = pytest.mark.django_db


def _upload_and_process(w, data: bytes, **target):
    target = target or {"finding": w.finding}
    response = post_photo(w.client, data, **target)
    assert response.status_code == 201, response.content
    photo_id = response.json()["id"]
    outbox = OutboxMessage.objects.get(kwargs={"photo_id": photo_id})
    service.photo_process(photo_id, outbox.pk)
    outbox.refresh_from_db()
    assert outbox.done_at is not None
    return Photo.objects.get(pk=photo_id)


def _no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        assert len(im.getexif()) == 0
        assert "exif" not in im.info
        assert "icc_profile" not in im.info
    assert b"Exif" not in data
    assert b"HUAWEI" not in data


def test_a_camera_photo_is_read_checked_and_derived():
    w = world()
    when = timezone.localtime() - timedelta(hours=2)
    data = camera_jpeg(11, when=when, lat=TARGET[0] + 0.001, lon=TARGET[1], orientation=6)
    photo = _upload_and_process(w, data)
    assert photo.status == "ready"
    assert photo.attempts == 1
    assert photo.flags == []
    assert photo.make == "HUAWEI"
    assert photo.model == "P30"
    assert photo.orientation == 6
    assert abs(photo.taken_at - when.replace(microsecond=0)) < timedelta(seconds=1)
    assert photo.lat == pytest.approx(TARGET[0] + 0.001, abs=1e-5)
    assert 100 < photo.distance_m < 120
    body = w.client.get(f"/api/v1/photos/{photo.pk}").json()
    assert body["gps"] == {"lat": photo.lat, "lon": photo.lon}
    assert body["device"] == {"make": "HUAWEI", "model": "P30"}
    assert body["status"] == "ready"
    assert body["flags"] == []
    assert body["thumbnail_url"].endswith(f"/api/v1/photos/{photo.pk}/thumbnail")
    # Orientation 6 (rotate 90°): the 480×360 original becomes portrait.
    thumb = b"".join(w.client.get(body["thumbnail_url"]).streaming_content)
    preview = b"".join(w.client.get(body["preview_url"]).streaming_content)
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.size == (240, 320)
    with Image.open(io.BytesIO(preview)) as im:
        assert im.size == (360, 480)
    _no_metadata(thumb)
    _no_metadata(preview)
    original = b"".join(w.client.get(body["original_url"]).streaming_content)
    assert original == data  # byte-for-byte, GPS and all
    # Idempotent: processing again changes nothing.
    before = Photo.objects.filter(pk=photo.pk).values().get()
    files = stored_files()
    assert service.photo_process(photo.pk) == "ready"
    assert Photo.objects.filter(pk=photo.pk).values().get() == before
    assert stored_files() == files
    assert temp_files() == []


def test_flags_far_outside_window_no_exif_and_reuse():
    w = world()
    long_ago = timezone.localtime() - timedelta(days=400)
    far = _upload_and_process(
        w, camera_jpeg(12, when=long_ago, lat=TARGET[0] + 0.05, lon=TARGET[1])
    )
    assert set(far.flags) == {"far_from_target", "outside_visit_window"}
    assert far.distance_m > 5000
    bare = _upload_and_process(w, jpeg(13))
    assert set(bare.flags) == {"no_exif", "gps_missing"}
    assert bare.distance_m is None
    # A second photo of the same finding is not reuse.
    again = _upload_and_process(w, jpeg(13, quality=70))
    assert "reused" not in again.flags
    # The same picture as evidence for another finding: the same bytes, or re-encoded.
    other = FindingFactory(visit=w.visit, created_by=w.inspector)
    same = _upload_and_process(w, jpeg(13), finding=other)
    assert bare.pk in same.matches
    assert "reused" in w.client.get(f"/api/v1/photos/{same.pk}").json()["flags"]
    similar = _upload_and_process(w, jpeg(12, quality=60), finding=other)
    assert far.pk in similar.matches
    assert "reused" in w.client.get(f"/api/v1/photos/{similar.pk}").json()["flags"]
    fresh = _upload_and_process(w, jpeg(14), finding=other)
    assert fresh.matches == []
    assert "reused" not in w.client.get(f"/api/v1/photos/{fresh.pk}").json()["flags"]
    # Stored flags are what the picture itself shows; reuse is decided per reader.
    assert "reused" not in same.flags


@pytest.mark.parametrize("name", [n for n, v in HOSTILE.items() if v[1] == 201])
def test_hostile_files_are_rejected_or_flagged_never_crash(name):
    w = world()
    make, _status, processed, mark = HOSTILE[name]
    photo = _upload_and_process(w, make())
    assert photo.status == processed, (photo.status, photo.reason)
    if processed == "rejected":
        assert photo.reason == mark
        assert photo.thumbnail == ""
        assert photo.preview == ""
        assert len(stored_files()) == 1  # the original only, as received
        assert w.client.get(f"/api/v1/photos/{photo.pk}/thumbnail").status_code == 409
    else:
        assert mark in photo.flags
        thumb = b"".join(w.client.get(f"/api/v1/photos/{photo.pk}/thumbnail").streaming_content)
        _no_metadata(thumb)
    assert temp_files() == []


def test_absurd_exif_is_contained():
    w = world()
    photo = _upload_and_process(w, HOSTILE["absurd_exif.jpg"][0]())
    assert timezone.localtime(photo.taken_at).year == 1900
    assert photo.lat is None
    assert len(photo.make) == 100
    assert {"gps_missing", "outside_visit_window"} <= set(photo.flags)


def test_pixel_limit_refuses_before_decoding(settings):
    w = world()
    settings.PHOTO_MAX_PIXELS = 100 * 100
    photo = _upload_and_process(w, jpeg(15, size=(200, 200)))
    assert photo.status == "rejected"
    assert photo.reason == "too_many_pixels"


def test_bytes_are_served_only_to_who_may_see_them_with_safe_headers(settings):
    w = world()
    photo = _upload_and_process(w, jpeg(16))
    url = f"/api/v1/photos/{photo.pk}"
    response = w.client.get(f"{url}/original", HTTP_ACCEPT="image/*")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"].startswith("private")
    thumb = w.client.get(f"{url}/thumbnail")
    assert thumb["Content-Disposition"].startswith("inline;")
    assert w.client.get(f"{url}/original", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    # Anyone else: the same 404 as a photo that does not exist, as JSON problem.
    outsider = bearer(w.outsider)
    for path in ("", "/thumbnail", "/preview", "/original"):
        refused = outsider.get(url + path, HTTP_ACCEPT="image/*" if path else "*/*")
        assert refused.status_code == 404
        assert refused["Content-Type"] == "application/problem+json"
    assert w.client.get("/api/v1/photos/00000000-0000-0000-0000-000000000000").status_code == 404
    # Behind the web server: an internal redirect instead of Python sending the file.
    settings.PHOTO_X_ACCEL_PREFIX = "/protected-media/"
    accel = w.client.get(f"{url}/original")
    assert accel["X-Accel-Redirect"] == f"/protected-media/{photo.original}"
    assert accel.content == b""
    assert accel["X-Content-Type-Options"] == "nosniff"


def test_photos_follow_their_finding_visibility_and_appear_in_findings_and_sync():
    w = world()
    photo = _upload_and_process(w, jpeg(17))
    visit_photo = _upload_and_process(w, jpeg(18), visit=w.visit)
    finding = w.client.get(f"/api/v1/findings/{w.finding.pk}").json()
    assert finding["photos"] == [str(photo.pk)]
    listed = w.client.get(f"/api/v1/findings?visit={w.visit.pk}").json()["results"]
    assert listed[0]["photos"] == [str(photo.pk)]
    synced = w.client.get("/api/v1/sync").json()
    assert {p["id"] for p in synced["changes"]["photos"]} == {str(photo.pk), str(visit_photo.pk)}
    # The unit official sees the finding's photos once it is published; never the visit's.
    official = UserFactory(roles=[Role.UNIT_OFFICIAL], unit=w.finding.responsible_unit)
    client = bearer(official)
    assert client.get(f"/api/v1/photos/{photo.pk}").status_code == 404
    w.visit.status = VisitStatus.CLOSED
    w.visit.save()
    w.finding.status = FindingStatus.PUBLISHED
    w.finding.save()
    assert client.get(f"/api/v1/photos/{photo.pk}").status_code == 200
    assert client.get(f"/api/v1/photos/{visit_photo.pk}").status_code == 404
    assert [p["id"] for p in client.get("/api/v1/sync").json()["changes"]["photos"]] == [
        str(photo.pk)
    ]


def test_heic_is_accepted_and_processed():
    w = world()
    photo = _upload_and_process(w, HOSTILE["iphone.heic"][0]())
    assert photo.content_type == "image/heic"
    assert photo.status == "ready"
    response = w.client.get(f"/api/v1/photos/{photo.pk}/original")
    assert response["Content-Type"] == "image/heic"


def test_exif_helpers_roundtrip():
    # The corpus's EXIF writer is what the other tests rely on.
    raw = exif_bytes(taken="2015:06:01 10:00:00", gps=(33.5, -117.25))
    im = noise(1)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=raw)
    from audits.photos import processing

    analysis = processing.Analysis(width=1, height=1)
    with Image.open(io.BytesIO(out.getvalue())) as opened:
        processing._read_exif(opened, analysis)
    assert analysis.lat == pytest.approx(33.5)
    assert analysis.lon == pytest.approx(-117.25)


def _process(client, data: bytes, **target) -> Photo:
    response = post_photo(client, data, **target)
    assert response.status_code == 201, response.content
    photo_id = response.json()["id"]
    service.photo_process(photo_id, OutboxMessage.objects.get(kwargs={"photo_id": photo_id}).pk)
    return Photo.objects.get(pk=photo_id)


def _flags_seen(client, photo: Photo) -> dict[str, list[str]]:
    """The photo's flags as the client reads them: detail and sync feed."""
    detail = client.get(f"/api/v1/photos/{photo.pk}")
    synced = client.get("/api/v1/sync").json()["changes"]["photos"]
    return {
        "detail": detail.json()["flags"] if detail.status_code == 200 else None,
        "sync": next((p["flags"] for p in synced if p["id"] == str(photo.pk)), None),
    }


def test_reuse_speaks_only_of_photos_the_viewer_may_see():
    """Team A's secret photo, uploaded again by team B: B must not learn it exists; the
    planner who sees both is told of the reuse."""
    from audits.choices import Level
    from audits.models import Campaign
    from tests.factories import CampaignFactory, TeamFactory, UnitFactory, VisitFactory

    w = world()  # team A, on a visit of an unannounced campaign
    city = UnitFactory(level=Level.CITY)
    Campaign.objects.filter(pk=w.visit.campaign_id).update(unit=city)
    w.finding.status = FindingStatus.SUBMITTED  # planners see findings once submitted
    w.finding.save()
    lead_b = UserFactory(roles=[Role.TEAM_LEAD])
    visit_b = VisitFactory(
        team=TeamFactory(lead=lead_b),
        campaign=CampaignFactory(unit=city),
        target=w.visit.target,
        status=VisitStatus.IN_PROGRESS,
    )
    finding_b = FindingFactory(visit=visit_b, created_by=lead_b, status=FindingStatus.SUBMITTED)
    planner = UserFactory(roles=[Role.PLANNER], unit=city)
    team_b, reviewer = bearer(lead_b), bearer(planner)

    secret = _process(w.client, jpeg(31), finding=w.finding)
    same = _process(team_b, jpeg(31), finding=finding_b)
    near = _process(team_b, jpeg(31, quality=60), visit=visit_b)
    assert same.sha256 == secret.sha256

    for copy in (same, near):
        assert copy.matches == [secret.pk]
        bare = ["no_exif", "gps_missing"]
        assert _flags_seen(team_b, copy) == {"detail": bare, "sync": bare}
        seen = _flags_seen(reviewer, copy)
        assert "reused" in seen["detail"], seen
        assert "reused" in seen["sync"], seen
    # The earlier photo matched nothing before it; its own team sees no reuse.
    assert "reused" not in _flags_seen(w.client, secret)["detail"]
    # Within team B, its own earlier photo is evidence elsewhere (another finding of theirs).
    mine = _process(team_b, jpeg(32), finding=finding_b)
    other_b = FindingFactory(visit=visit_b, created_by=lead_b, status=FindingStatus.SUBMITTED)
    again = _process(team_b, jpeg(32), finding=other_b)
    assert "reused" in _flags_seen(team_b, again)["detail"]
    assert "reused" not in _flags_seen(team_b, mine)["detail"]


def test_the_migration_turns_stored_reuse_flags_into_matches():
    """Photos flagged `reused` before matches were kept get their matches back, and lose the
    stored flag (now decided per reader)."""
    import importlib

    from django.db import connection

    backfill = importlib.import_module("audits.migrations.0009_photo_matches").backfill
    w = world()
    other = FindingFactory(visit=w.visit, created_by=w.inspector)

    def photo(finding, sha: str, phash: int, flags: list[str]) -> Photo:
        return Photo.objects.create(
            finding=finding,
            visit=w.visit,
            uploaded_by=w.inspector,
            sha256=sha,
            size=1,
            content_type="image/jpeg",
            original="originals/x",
            status="ready",
            phash=phash,
            flags=flags,
        )

    pattern = 0x0F0F_0F0F_0F0F_0F0F
    first = photo(w.finding, "1" * 64, pattern, ["no_exif"])
    near = photo(w.finding, "2" * 64, pattern ^ 0b111, [])
    copy = photo(other, "1" * 64, 0, ["no_exif", "reused"])  # same bytes
    alike = photo(other, "3" * 64, pattern ^ 0b11, ["reused", "gps_missing"])  # near
    with connection.schema_editor() as editor:
        backfill(None, editor)
    copy.refresh_from_db()
    alike.refresh_from_db()
    first.refresh_from_db()
    assert (copy.matches, copy.flags) == ([first.pk], ["no_exif"])
    assert (alike.matches, alike.flags) == ([first.pk, near.pk], ["gps_missing"])
    assert (first.matches, first.flags) == ([], ["no_exif"])


def test_the_attempt_limit_is_one_rule_for_failed_tries_and_for_killed_workers(settings):
    settings.PHOTO_MAX_ATTEMPTS = 2
    w = world()
    photo_id = post_photo(w.client, jpeg(51), finding=w.finding).json()["id"]
    Photo.objects.filter(pk=photo_id).update(attempts=1)
    wait = service.photo_process_failed(photo_id=photo_id, error=OSError("disk"))
    assert 2 <= wait < 3  # 2 ** attempts, and up to a second of jitter
    assert Photo.objects.get(pk=photo_id).status == "pending"
    Photo.objects.filter(pk=photo_id).update(attempts=2)
    assert service.photo_process_failed(photo_id=photo_id, error=OSError("disk")) is None
    photo = Photo.objects.get(pk=photo_id)
    assert (photo.status, photo.reason) == ("rejected", "failed: OSError: disk")
    # A worker killed after counting its last attempt: the next delivery meets the same rule.
    other = post_photo(w.client, jpeg(52), finding=w.finding).json()["id"]
    Photo.objects.filter(pk=other).update(attempts=2)
    assert service.photo_process(other) == "rejected"
    assert Photo.objects.get(pk=other).reason == "too_many_attempts"
