"""Photos on an S3-compatible object store (django-storages), the deployment on several
machines: same names, same bytes, processing and serving, nothing public, nothing local.

The store is moto's S3 server on a loopback port: a real HTTP endpoint that speaks the S3
protocol, reached through boto3 exactly as a production store would be.
"""

import uuid

import boto3
import pytest
from botocore.client import Config

from audits.models import Photo
from audits.services.photos import processing as service
from tests.photos.helpers import free_port, post_photo, sha, stored_files, world
from tests.photos.make_corpus import jpeg

pytestmark = pytest.mark.django_db
BUCKET = "duchaa-evidence"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        config=Config(signature_version="s3v4"),
    )
    name = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    # What server/settings.py sets for PHOTO_STORAGE_BACKEND=s3 and the AWS_* variables.
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    return client, name


def _objects(client, name: str) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=name, Key=o["Key"])["Body"].read() for o in listing}


def test_a_photo_lives_on_the_object_store_byte_for_byte_and_private(bucket):
    client, name = bucket
    w = world()
    data = jpeg(7)
    digest = sha(data)
    answer = post_photo(w.client, data, finding=w.finding)
    assert answer.status_code == 201, answer.content
    original = f"originals/{digest[:2]}/{digest[2:4]}/{digest}"
    assert _objects(client, name) == {original: data}
    assert stored_files() == []  # nothing but the temporary area on this machine

    photo_id = answer.json()["id"]
    assert service.photo_process(photo_id) == "ready"
    objects = _objects(client, name)
    assert objects[original] == data
    assert {
        f"derived/{digest[:2]}/{digest[2:4]}/{digest}-{kind}.jpg" for kind in ("thumb", "preview")
    } <= set(objects)
    assert stored_files() == []  # the worker's local copy is gone again

    served = w.client.get(f"/api/v1/photos/{photo_id}/original")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == data
    assert served["X-Content-Type-Options"] == "nosniff"
    thumb = w.client.get(f"/api/v1/photos/{photo_id}/thumbnail")
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    for key in objects:
        grants = client.get_object_acl(Bucket=name, Key=key)["Grants"]
        assert not [g for g in grants if g["Grantee"].get("URI") == ALL_USERS], key


def test_the_same_bytes_twice_are_one_object(bucket):
    client, name = bucket
    w = world()
    data = jpeg(8)
    first = post_photo(w.client, data, finding=w.finding)
    second = post_photo(w.client, data, finding=w.finding)
    assert first.status_code == second.status_code == 201
    assert len(_objects(client, name)) == 1
    assert Photo.objects.filter(sha256=sha(data)).count() == 2
