"""Uploads, whole and resumable: what is accepted, what is refused, and what is kept."""

import uuid

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from audits.choices import FindingStatus, Role, VisitStatus
from audits.models import OutboxMessage, Photo, PhotoUpload
from audits.services.photos import uploads
from tests.conftest import bearer
from tests.photos.helpers import (
    BOUNDARY,
    CutStream,
    hostile,
    multipart,
    post_photo,
    post_raw,
    sha,
    stored_files,
    stray_temp_files,
    temp_files,
    world,
)
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


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_file_of_the_hostile_corpus_gets_its_answer_and_leaves_no_temporary_file(name):
    w = world()
    data = HOSTILE[name][0]()
    response = hostile(lambda: post_photo(w.client, data, finding=w.finding, name=name))
    assert response.status_code == HOSTILE[name][1], response.content
    if response.status_code == 415:
        assert stored_files() == []
        assert not Photo.objects.exists()
    else:
        digest = sha(data)
        assert stored_files() == [f"originals/{digest[:2]}/{digest[2:4]}/{digest}"]


# --- hostile requests: every refusal is a problem, and keeps nothing ---------------------


def _honest(w, data: bytes, **change) -> list:
    """The parts of an honest upload, fields first as phones send them; `change` replaces
    a field's value, or drops it when the value is None."""
    fields = {"id": str(uuid.uuid4()), "finding": str(w.finding.pk), "sha256": sha(data)}
    fields.update(change)
    return [(k, v) for k, v in fields.items() if v is not None] + [("file", "a.jpg", data)]


def _as(user):
    return bearer(user)


def _planner_of(w):
    from tests.factories import UserFactory

    return UserFactory(roles=[Role.PLANNER], unit=w.visit.campaign.unit)


def _official_of(w):
    from tests.factories import UserFactory

    return UserFactory(roles=[Role.UNIT_OFFICIAL], unit=w.finding.responsible_unit)


def _too_large(w, data):
    with override_settings(PHOTO_MAX_BYTES=len(data) // 2):
        return post_raw(w.client, multipart(_honest(w, data)))


def _cut(w, data, *, in_file: bool, fail: bool):
    body = multipart(_honest(w, data))
    at = body.index(data) + (len(data) // 2 if in_file else -200)
    return post_raw(w.client, body, cut_at=at, fail=fail)


BIG = 600 * 1024  # bigger than one chunk of the streamed parse

# name: (send(world, jpeg bytes) -> answer, expected status)
HOSTILE_REQUESTS = {
    "second file part": (
        lambda w, d: post_raw(w.client, multipart([*_honest(w, d), ("other", "b.jpg", d)])),
        400,
    ),
    "the file twice": (
        lambda w, d: post_raw(w.client, multipart([*_honest(w, d), ("file", "b.jpg", d)])),
        400,
    ),
    "another file before the file": (
        lambda w, d: post_raw(w.client, multipart([("other", "b.jpg", d), *_honest(w, d)])),
        400,
    ),
    "a file under another name only": (
        lambda w, d: post_raw(w.client, multipart([*_honest(w, d)[:-1], ("photo", "a.jpg", d)])),
        400,
    ),
    "file sent as a plain field": (
        lambda w, d: post_raw(w.client, multipart([*_honest(w, d)[:-1], ("file", "abc")])),
        400,
    ),
    "missing id": (lambda w, d: post_raw(w.client, multipart(_honest(w, d, id=None))), 400),
    "malformed id": (lambda w, d: post_raw(w.client, multipart(_honest(w, d, id="x"))), 400),
    "missing sha256": (
        lambda w, d: post_raw(w.client, multipart(_honest(w, d, sha256=None))),
        400,
    ),
    "neither finding nor visit": (
        lambda w, d: post_raw(w.client, multipart(_honest(w, d, finding=None))),
        400,
    ),
    "finding and visit": (
        lambda w, d: post_raw(w.client, multipart([("visit", str(w.visit.pk)), *_honest(w, d)])),
        400,
    ),
    "wrong sha256": (
        lambda w, d: post_raw(w.client, multipart(_honest(w, d, sha256="0" * 64))),
        422,
    ),
    "not an image": (
        lambda w, d: post_raw(
            w.client, multipart([*_honest(w, b"<html>")[:-1], ("file", "a.jpg", b"<html>")])
        ),
        415,
    ),
    "too large": (_too_large, 413),
    "a finding the caller may not see": (
        lambda w, d: post_raw(_as(w.outsider), multipart(_honest(w, d))),
        400,
    ),
    "a visit the caller sees but does not inspect": (
        lambda w, d: post_raw(
            _as(_planner_of(w)), multipart(_honest(w, d, finding=None, visit=str(w.visit.pk)))
        ),
        403,
    ),
    "a draft finding, by its unit's official": (
        lambda w, d: post_raw(_as(_official_of(w)), multipart(_honest(w, d))),
        400,
    ),
    "body cut off in the file": (lambda w, d: _cut(w, d, in_file=True, fail=False), 400),
    "connection broken in the file": (lambda w, d: _cut(w, d, in_file=True, fail=True), 400),
    "connection broken before the file": (lambda w, d: _cut(w, d, in_file=False, fail=True), 400),
    "no boundary": (
        lambda w, d: post_raw(
            w.client, multipart(_honest(w, d)), content_type="multipart/form-data"
        ),
        400,
    ),
    "broken base64 part": (
        lambda w, d: post_raw(
            w.client,
            multipart(_honest(w, d)).replace(
                b"Content-Type: image/jpeg", b"Content-Transfer-Encoding: base64"
            ),
        ),
        400,
    ),
    "too many fields": (
        lambda w, d: post_raw(
            w.client, multipart([*[(f"f{n}", "x") for n in range(1100)], *_honest(w, d)])
        ),
        400,
    ),
    "a field over the form limit": (
        lambda w, d: post_raw(w.client, multipart([*_honest(w, d), ("note", "x" * (1 << 21))])),
        413,
    ),
    "not multipart": (
        lambda w, d: post_raw(w.client, d, content_type="application/octet-stream"),
        415,
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_REQUESTS))
def test_hostile_requests_are_refused_cleanly_and_keep_nothing(name):
    w = world()
    send, status = HOSTILE_REQUESTS[name]
    data = jpeg(1, size=(1200, 900), quality=97) + b"\0" * BIG  # several chunks long
    response = hostile(lambda: send(w, data))
    assert response.status_code == status, response.content
    assert not Photo.objects.exists()
    assert stored_files() == []


def test_an_honest_raw_upload_is_accepted():
    """The hand-built bodies above differ from an honest one only by what they break."""
    w = world()
    data = jpeg(1)
    response = hostile(lambda: post_raw(w.client, multipart(_honest(w, data))))
    assert response.status_code == 201, response.content


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
    assert hostile(lambda: _open(w.client, data, w)).status_code == 413
    settings.PHOTO_MAX_BYTES = 40 * 1024 * 1024
    # More bytes than declared: refused while streaming, what came before stays valid.
    location = _open(w.client, data, w)["Location"]
    too_long = hostile(lambda: _patch(w.client, location, data + b"extra", 0))
    assert too_long.status_code == 413
    assert w.client.head(location)["Upload-Offset"] == "0"
    # Not an image: refused as soon as its first bytes arrive.
    html = b"<html>" + b"x" * 100
    location = _open(w.client, html, w)["Location"]
    assert hostile(lambda: _patch(w.client, location, html[:64], 0)).status_code == 415
    assert w.client.head(location).status_code == 404
    # Wrong SHA-256: 422 at the last chunk, nothing kept.
    location = _open(w.client, data, w, sha256="1" * 64)["Location"]
    wrong = hostile(lambda: _patch(w.client, location, data, 0))
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "sha256_mismatch"
    assert not Photo.objects.exists()
    assert stored_files() == []
    assert w.client.head(location).status_code == 404
    # Wrong content type.
    location = _open(w.client, data, w)["Location"]
    wrong_type = hostile(
        lambda: w.client.generic(
            "PATCH", location, data, content_type="image/jpeg", HTTP_UPLOAD_OFFSET="0"
        )
    )
    assert wrong_type.status_code == 415
    # No offset, or nonsense.
    for offset in ("", "-1", "x"):
        answer = hostile(
            lambda offset=offset: w.client.generic(
                "PATCH",
                location,
                data,
                content_type="application/offset+octet-stream",
                HTTP_UPLOAD_OFFSET=offset,
            )
        )
        assert answer.status_code in (400, 409), (offset, answer.content)
    assert stray_temp_files() == []


@pytest.mark.parametrize("fail", [False, True], ids=["ends", "breaks"])
def test_a_chunk_cut_off_by_a_vanished_client_keeps_the_offset(fail):
    """The connection drops in the middle of a chunk: the answer is a problem (nobody may
    read it), the session stays where it was, and the app resumes from the server offset."""
    w = world()
    data = jpeg(9, size=(1200, 900))
    location = _open(w.client, data, w)["Location"]
    assert _patch(w.client, location, data[:1000], 0).status_code == 204
    cut = hostile(
        lambda: w.client.generic(
            "PATCH",
            location,
            data[1000:],
            content_type="application/offset+octet-stream",
            HTTP_UPLOAD_OFFSET="1000",
            **{"wsgi.input": CutStream(data[1000:5000], fail=fail)},
        )
    )
    # A short body that simply ends was a (short) chunk: the offset moved by what arrived.
    expected = "1000" if fail else "5000"
    assert cut.status_code == (400 if fail else 204), cut.content
    assert w.client.head(location)["Upload-Offset"] == expected
    offset = int(expected)
    done = hostile(lambda: _patch(w.client, location, data[offset:], offset))
    assert done.status_code == 201, done.content
    with default_storage.open(Photo.objects.get().original) as handle:
        assert handle.read() == data
    assert temp_files() == []


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_file_of_the_hostile_corpus_through_a_resumable_upload(name):
    w = world()
    data = HOSTILE[name][0]()
    status = HOSTILE[name][1]
    if not data:
        assert hostile(lambda: _open(w.client, data, w)).status_code == 400  # size 0
        return
    location = _open(w.client, data, w)["Location"]
    half = max(1, len(data) // 2)
    first = hostile(lambda: _patch(w.client, location, data[:half], 0))
    if half < len(data) and first.status_code == 204:
        last = hostile(lambda: _patch(w.client, location, data[half:], half))
    else:
        last = first
    assert last.status_code == status, last.content
    assert stray_temp_files() == []
    assert temp_files() == []


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
    assert uploads.uploads_remove_stale(max_age_hours=1) == 0
    PhotoUpload.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert uploads.uploads_remove_stale(max_age_hours=1) == 1
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


# --- Idempotency-Key on uploads: the photo's id, target and SHA-256 make the request ------


def _same_length_pair() -> tuple[bytes, bytes]:
    """Two different photos of exactly the same length (so equal Content-Length)."""
    a, b = jpeg(1), jpeg(2)
    size = max(len(a), len(b))
    return a + b"\0" * (size - len(a)), b + b"\0" * (size - len(b))


def _keyed(w, data: bytes, key: str, *, photo_id=None, fields_last=False, boundary=BOUNDARY):
    parts = _honest(w, data, id=str(photo_id or uuid.uuid4()))
    if fields_last:
        parts = parts[-1:] + parts[:-1]
    return post_raw(
        w.client, multipart(parts, boundary), boundary=boundary, HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.mark.parametrize("fields_last", [False, True], ids=["fields-first", "file-first"])
def test_a_key_reused_for_another_photo_is_422_and_the_other_photo_is_not_taken(fields_last):
    w = world()
    a, b = _same_length_pair()
    first = _keyed(w, a, "k-1", fields_last=fields_last)
    assert first.status_code == 201, first.content
    other = hostile(lambda: _keyed(w, b, "k-1", fields_last=fields_last))
    assert other.status_code == 422, other.content
    assert other.json()["code"] == "idempotency_key_reused"
    assert "Idempotent-Replayed" not in other
    assert list(Photo.objects.values_list("sha256", flat=True)) == [sha(a)]
    # The same photo under another target, or the same bytes under another id: other requests.
    photo_id = first.json()["id"]
    elsewhere = post_raw(
        w.client,
        multipart(_honest(w, a, id=photo_id, finding=None, visit=str(w.visit.pk))),
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert elsewhere.status_code == 422
    assert _keyed(w, a, "k-1").status_code == 422
    # The real retry still replays, whatever its boundary (here of another length).
    retry = _keyed(w, a, "k-1", photo_id=photo_id, fields_last=fields_last, boundary="r" * 50)
    assert retry.status_code == 201, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Photo.objects.count() == 1


def test_a_replay_is_answered_before_the_file_is_read():
    """Fields first: the key is claimed as the file part begins, so a retry of a finished
    upload is answered from what it remembers even if its body then breaks off."""
    w = world()
    data = jpeg(3)
    photo_id = uuid.uuid4()
    first = _keyed(w, data, "k-2", photo_id=photo_id)
    assert first.status_code == 201
    body = multipart(_honest(w, data, id=str(photo_id)))
    cut = hostile(
        lambda: post_raw(
            w.client, body, cut_at=body.index(data) + 5000, fail=True, HTTP_IDEMPOTENCY_KEY="k-2"
        )
    )
    assert cut.status_code == 201, cut.content
    assert cut["Idempotent-Replayed"] == "true"
    # Another photo with that key is refused before its bytes are read, too.
    other = multipart(_honest(w, jpeg(4)))
    refused = hostile(
        lambda: post_raw(
            w.client,
            other,
            cut_at=other.index(b"\xff\xd8") + 5000,
            fail=True,
            HTTP_IDEMPOTENCY_KEY="k-2",
        )
    )
    assert refused.status_code == 422, refused.content


def test_a_key_reused_for_another_resumable_upload_is_422():
    w = world()
    a, b = _same_length_pair()
    first = w.client.post(
        "/api/v1/uploads",
        {"id": str(uuid.uuid4()), "size": len(a), "sha256": sha(a), "finding": str(w.finding.pk)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert first.status_code == 201
    other = w.client.post(
        "/api/v1/uploads",
        {"id": str(uuid.uuid4()), "size": len(b), "sha256": sha(b), "finding": str(w.finding.pk)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert other.status_code == 422
    assert PhotoUpload.objects.count() == 1
