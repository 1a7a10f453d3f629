"""Uploads, whole and resumable: what is accepted, what is refused, and what is kept."""

import uuid

import pytest
from django.test import override_settings

from audits.choices import FindingStatus, Role, VisitStatus
from audits.models import OutboxMessage, Photo, PhotoUpload
from audits.services import photos as service
from tests.conftest import bearer
from tests.photos.helpers import post_photo, sha, stored_files, temp_files, world
from tests.photos.make_corpus import HOSTILE, jpeg

pytestmark = pytest.mark.django_db


def test_whole_upload_is_stored_byte_for_byte_with_its_outbox_row():
    w = world()
    data = jpeg(1)
    response = post_photo(w.client, data, finding=w.finding)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["sha256"] == sha(data)
    assert body["size"] == len(data)
    assert body["finding"] == str(w.finding.pk)
    assert body["visit"] == str(w.visit.pk)
    assert body["thumbnail_url"] is None
    photo = Photo.objects.get(pk=body["id"])
    digest = sha(data)
    assert stored_files() == [f"originals/{digest[:2]}/{digest[2:4]}/{digest}"]
    from django.core.files.storage import default_storage

    with default_storage.open(photo.original) as handle:
        assert handle.read() == data
    assert (
        OutboxMessage.objects.filter(kwargs={"photo_id": str(photo.pk)}, done_at=None).count() == 1
    )
    assert temp_files() == []


def test_same_id_same_bytes_is_200_other_bytes_409():
    w = world()
    photo_id = uuid.uuid4()
    assert post_photo(w.client, jpeg(1), finding=w.finding, photo_id=photo_id).status_code == 201
    again = post_photo(w.client, jpeg(1), finding=w.finding, photo_id=photo_id)
    assert again.status_code == 200
    assert again.json()["id"] == str(photo_id)
    other = post_photo(w.client, jpeg(2), finding=w.finding, photo_id=photo_id)
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert Photo.objects.count() == 1
    assert len(stored_files()) == 1
    assert temp_files() == []


def test_wrong_sha256_is_422_and_nothing_is_kept():
    w = world()
    response = post_photo(w.client, jpeg(1), finding=w.finding, digest="0" * 64)
    assert response.status_code == 422
    assert response.json()["code"] == "sha256_mismatch"
    assert Photo.objects.count() == 0
    assert stored_files() == []
    assert temp_files() == []


def test_size_limit_is_enforced_while_streaming(settings):
    w = world()
    settings.PHOTO_MAX_BYTES = 50_000
    response = post_photo(w.client, jpeg(1, size=(1600, 1200), quality=95), finding=w.finding)
    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_large"
    assert Photo.objects.count() == 0
    assert stored_files() == []
    assert temp_files() == []


def test_declared_length_over_the_limit_is_refused_before_reading():
    w = world()
    from audits.api.photo_views import PhotoCreate

    response = w.client.generic(
        "POST",
        "/api/v1/photos",
        b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(PhotoCreate.max_body_bytes + 1),
    )
    assert response.status_code == 413


@pytest.mark.parametrize("name", [n for n, v in HOSTILE.items() if v[1] == 415])
def test_not_an_image_by_its_bytes_is_415(name):
    w = world()
    data = HOSTILE[name][0]()
    response = post_photo(w.client, data, finding=w.finding, name=name)
    assert response.status_code == 415, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert stored_files() == []
    assert temp_files() == []


def test_photo_of_a_visit_and_refusals_of_targets():
    w = world()
    assert post_photo(w.client, jpeg(1), visit=w.visit).status_code == 201
    both = post_photo(w.client, jpeg(2), visit=w.visit, finding=w.finding)
    assert both.status_code == 400
    # Someone who may not see the finding: the same answer as a missing one.
    outsider = post_photo(bearer(w.outsider), jpeg(3), finding=w.finding)
    assert outsider.status_code == 400
    assert "finding" in outsider.json()["errors"]
    missing = post_photo(w.client, jpeg(3), finding=type("F", (), {"pk": uuid.uuid4()})())
    assert missing.status_code == 400
    assert temp_files() == []


def test_the_responsible_unit_documents_its_rectification():
    w = world()
    official = type(w.inspector).objects.create(
        username="unit-official",
        roles=[Role.UNIT_OFFICIAL],
        unit=w.finding.responsible_unit,
        password=w.inspector.password,
    )
    client = bearer(official)
    assert post_photo(client, jpeg(4), finding=w.finding).status_code == 400  # draft: unseen
    w.visit.status = VisitStatus.CLOSED
    w.visit.save()
    w.finding.status = FindingStatus.PUBLISHED
    w.finding.save()
    response = post_photo(client, jpeg(4), finding=w.finding)
    assert response.status_code == 201
    done = client.post(
        f"/api/v1/findings/{w.finding.pk}/rectification",
        {"report": "已整改", "photos": [str(uuid.uuid4())]},
        format="json",
    )
    assert done.status_code == 400
    assert "photos" in done.json()["errors"]
    done = client.post(
        f"/api/v1/findings/{w.finding.pk}/rectification",
        {"report": "已整改", "photos": [response.json()["id"]]},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["photos"] == [response.json()["id"]]


# --- resumable --------------------------------------------------------------------------


def _open(client, data: bytes, w, upload_id=None, **extra):
    body = {
        "id": str(upload_id or uuid.uuid4()),
        "size": len(data),
        "sha256": sha(data),
        "finding": str(w.finding.pk),
        "filename": "IMG_0002.HEIC",
        **extra,
    }
    return client.post("/api/v1/uploads", body, format="json")


def _patch(client, location: str, chunk: bytes, offset: int):
    return client.generic(
        "PATCH",
        location,
        chunk,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def test_resumable_upload_resumes_from_the_server_offset():
    w = world()
    client = w.client
    data = jpeg(5, size=(1200, 900))
    created = _open(client, data, w)
    assert created.status_code == 201, created.content
    location = created["Location"]
    upload_id = created.json()["id"]
    assert location.endswith(f"/api/v1/uploads/{upload_id}")
    assert client.head(location)["Upload-Offset"] == "0"
    first = _patch(client, location, data[:10_000], 0)
    assert first.status_code == 204
    assert first["Upload-Offset"] == "10000"
    # The connection broke; the app asks where to resume.
    assert client.head(location)["Upload-Offset"] == "10000"
    stale = _patch(client, location, data[5_000:20_000], 5_000)
    assert stale.status_code == 409
    assert stale.json()["code"] == "offset_mismatch"
    assert _patch(client, location, data[10_000:30_000], 10_000).status_code == 204
    last = _patch(client, location, data[30_000:], 30_000)
    assert last.status_code == 201, last.content
    body = last.json()
    assert body["id"] == upload_id
    assert body["status"] == "pending"
    assert body["sha256"] == sha(data)
    assert body["size"] == len(data)
    photo = Photo.objects.get(pk=upload_id)
    from django.core.files.storage import default_storage

    with default_storage.open(photo.original) as handle:
        assert handle.read() == data
    assert not PhotoUpload.objects.exists()
    assert temp_files() == []
    assert client.head(location).status_code == 404
    # Posting the same photo whole afterwards is a repeat, not a second photo.
    assert post_photo(client, data, finding=w.finding, photo_id=upload_id).status_code == 200


def test_upload_sessions_are_owned():
    w = world()
    created = _open(w.client, jpeg(5), w)
    location = created["Location"]
    other = bearer(w.outsider)
    assert other.head(location).status_code == 404
    assert _patch(other, location, b"\xff\xd8\xff", 0).status_code == 404
    assert w.client.head(location).status_code == 200


def test_resumable_refusals_keep_nothing(settings):
    w = world()
    data = jpeg(6)
    # The declared size over the limit.
    settings.PHOTO_MAX_BYTES = len(data) - 1
    assert _open(w.client, data, w).status_code == 413
    settings.PHOTO_MAX_BYTES = 40 * 1024 * 1024
    # More bytes than declared: refused while streaming, what came before stays valid.
    location = _open(w.client, data, w)["Location"]
    too_long = _patch(w.client, location, data + b"extra", 0)
    assert too_long.status_code == 413
    assert w.client.head(location)["Upload-Offset"] == "0"
    # Not an image: refused as soon as its first bytes arrive.
    html = b"<html>" + b"x" * 100
    location = _open(w.client, html, w)["Location"]
    assert _patch(w.client, location, html[:64], 0).status_code == 415
    assert w.client.head(location).status_code == 404
    # Wrong SHA-256: 422 at the last chunk, nothing kept.
    location = _open(w.client, data, w, sha256="1" * 64)["Location"]
    wrong = _patch(w.client, location, data, 0)
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "sha256_mismatch"
    assert not Photo.objects.exists()
    assert stored_files() == []
    assert w.client.head(location).status_code == 404
    assert [name for name in temp_files() if not name.startswith("upload-")] == []
    # Wrong content type.
    location = _open(w.client, data, w)["Location"]
    wrong_type = w.client.generic(
        "PATCH", location, data, content_type="image/jpeg", HTTP_UPLOAD_OFFSET="0"
    )
    assert wrong_type.status_code == 415


def test_permission_is_checked_again_when_the_last_chunk_arrives():
    w = world()
    data = jpeg(7)
    location = _open(w.client, data, w)["Location"]
    assert _patch(w.client, location, data[:100], 0).status_code == 204
    w.visit.team.members.remove(w.inspector)
    w.visit.team.lead = type(w.inspector).objects.create(
        username="new-lead", roles=[Role.TEAM_LEAD], password="x"
    )
    w.visit.team.save()
    last = _patch(w.client, location, data[100:], 100)
    assert last.status_code in (400, 403)
    assert not Photo.objects.exists()
    assert stored_files() == []
    assert not PhotoUpload.objects.exists()
    assert temp_files() == []


def test_quota_of_unfinished_uploads(settings):
    w = world()
    settings.PHOTO_UPLOADS_OPEN_PER_USER = 2
    assert _open(w.client, jpeg(1), w).status_code == 201
    assert _open(w.client, jpeg(2), w).status_code == 201
    third = _open(w.client, jpeg(3), w)
    assert third.status_code == 429
    assert third["Retry-After"] == "3600"
    # The wording DRF's Throttled gave it before the domain raised its own errors.
    assert third.json()["detail"] == "未完成的上传过多，请先完成或等待其过期。 预计 3600 秒后可用。"
    data = jpeg(3)
    body = {"id": str(uuid.uuid4()), "size": len(data), "sha256": sha(data)}
    body["finding"] = str(w.finding.pk)
    english = w.client.post("/api/v1/uploads", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"].endswith(". Expected available in 3600 seconds.")
    # Another user has their own quota.
    assert bearer(w.outsider).post("/api/v1/uploads", {}, format="json").status_code == 400


def test_abandoned_uploads_are_removed_after_the_age_limit():
    w = world()
    data = jpeg(8)
    location = _open(w.client, data, w)["Location"]
    _patch(w.client, location, data[:500], 0)
    assert service.remove_stale_uploads(max_age_hours=1) == 0
    PhotoUpload.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert service.remove_stale_uploads(max_age_hours=1) == 1
    assert not PhotoUpload.objects.exists()
    assert temp_files() == []


@override_settings(PHOTO_MAX_BYTES=10)
def test_settings_limit_applies_to_whole_uploads_too():
    w = world()
    assert post_photo(w.client, jpeg(1), visit=w.visit).status_code == 413


def test_retry_with_a_new_multipart_boundary_replays_the_first_answer():
    """A phone that retries builds a new multipart body: same fields and bytes, another
    boundary. The same Idempotency-Key must give back the first answer, not a 422."""
    from django.test.client import encode_multipart

    w = world()
    data = jpeg(1)
    fields = {"id": str(uuid.uuid4()), "sha256": sha(data), "finding": str(w.finding.pk)}

    def send(boundary: str):
        from django.core.files.uploadedfile import SimpleUploadedFile

        body = encode_multipart(
            boundary, {**fields, "file": SimpleUploadedFile("IMG_0001.jpg", data, "image/jpeg")}
        )
        return w.client.post(
            "/api/v1/photos",
            data=body,
            HTTP_IDEMPOTENCY_KEY="retry-1",
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    first = send("a" * 32)
    second = send("b" * 32)
    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Photo.objects.count() == 1
