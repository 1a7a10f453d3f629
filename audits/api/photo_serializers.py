"""What the photo endpoints read and answer (photo_views.py; the sync feed answers photos too)."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as s
from rest_framework.reverse import reverse

from audits.api.util import ClientId
from audits.models import Photo
from audits.selectors.photos import flags_for, uploader_for

_SHA = re.compile(r"^[0-9a-fA-F]{64}$")


class Gps(s.Serializer):
    lat = s.FloatField()
    lon = s.FloatField()


class Device(s.Serializer):
    make = s.CharField()
    model = s.CharField()


class PhotoOut(s.ModelSerializer):
    finding = s.UUIDField(source="finding_id", allow_null=True)
    visit = s.UUIDField(source="visit_id")
    gps = s.SerializerMethodField()
    device = s.SerializerMethodField()
    thumbnail_url = s.SerializerMethodField()
    preview_url = s.SerializerMethodField()
    original_url = s.SerializerMethodField()
    flags = s.SerializerMethodField()
    uploaded_by = s.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "finding",
            "visit",
            "purpose",
            "uploaded_by",
            "status",
            "reason",
            "sha256",
            "size",
            "content_type",
            "width",
            "height",
            "taken_at",
            "gps",
            "device",
            "distance_m",
            "flags",
            "created_at",
            "processed_at",
            "thumbnail_url",
            "preview_url",
            "original_url",
        ]

    @extend_schema_field(Gps(allow_null=True))
    def get_gps(self, photo: Photo) -> dict | None:
        return None if photo.lat is None else {"lat": photo.lat, "lon": photo.lon}

    @extend_schema_field(Device)
    def get_device(self, photo: Photo) -> dict:
        return {"make": photo.make, "model": photo.model}

    def _reader(self):
        request = self.context.get("request")
        return request.user if request is not None else None

    def get_flags(self, photo: Photo) -> list[str]:
        return flags_for(self._reader(), photo)

    @extend_schema_field(s.IntegerField(allow_null=True))
    def get_uploaded_by(self, photo: Photo) -> int | None:
        """The uploader's user id; null when the reader may not know it (an inspector, to
        those who may not see the visit)."""
        return uploader_for(self._reader(), photo)

    def _url(self, photo: Photo, kind: str) -> str:
        return reverse(
            f"photo-{kind}", kwargs={"pk": photo.pk}, request=self.context.get("request")
        )

    def get_thumbnail_url(self, photo: Photo) -> str | None:
        return self._url(photo, "thumbnail") if photo.thumbnail else None

    def get_preview_url(self, photo: Photo) -> str | None:
        return self._url(photo, "preview") if photo.preview else None

    def get_original_url(self, photo: Photo) -> str:
        return self._url(photo, "original")


class PhotoIn(s.Serializer):
    id = ClientId()
    finding = s.UUIDField(required=False)
    visit = s.UUIDField(required=False)
    sha256 = s.RegexField(_SHA)


class UploadIn(PhotoIn):
    size = s.IntegerField(min_value=1)
    filename = s.CharField(max_length=255, required=False, default="", allow_blank=True)
