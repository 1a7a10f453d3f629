"""Photo evidence: whole and resumable uploads, the photo's facts, and its bytes.

Upload views manage their own (short) transactions: a slow upload over a weak network
streams to a temporary file with no database transaction open, and is attached in one
short transaction at the end. Bodies are read in chunks and never held in memory.
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from audits.api.base import Endpoint
from audits.api.photo_serializers import PhotoIn, PhotoOut, UploadIn
from audits.api.util import seen, valid
from audits.errors import Conflict, ErrorCode
from audits.models import Photo
from audits.photos import ingest
from audits.photos.sniff import EXTENSIONS
from audits.services.photos import attaching, uploads

non_atomic = method_decorator(transaction.non_atomic_requests, name="dispatch")
MULTIPART_OVERHEAD = 64 * 1024
CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class AnyMediaRenderer(JSONRenderer):
    """Lets a client ask for image bytes (`Accept: image/*`); errors still answer in JSON."""

    media_type = "*/*"
    format = "bytes"


def _answer(request, photo: Photo, created: bool, headers: dict | None = None) -> Response:
    return Response(
        PhotoOut(photo, context={"request": request}).data,
        status=201 if created else 200,
        headers=headers,
    )


@non_atomic
class PhotoCreate(Endpoint):
    """POST /photos (multipart): the whole file at once."""

    max_body_bytes = settings.PHOTO_MAX_BYTES + MULTIPART_OVERHEAD
    # What makes two uploads "the same request" for Idempotency-Key: the photo, not the
    # multipart framing (a retry has a new boundary) nor the length.
    idempotency_fields = ("id", "finding", "visit", "sha256")

    def _claim_before_file(self, fields) -> None:
        # Fields first (as phones send them): a retry is answered, a reused key refused,
        # before the file is read. Otherwise the claim waits for the end of the parse.
        if {"id", "sha256"} <= fields.keys() and fields.keys() & {"finding", "visit"}:
            self.claim_idempotency(fields)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "finding": {"type": "string", "format": "uuid"},
                    "visit": {"type": "string", "format": "uuid"},
                    "sha256": {"type": "string"},
                    "file": {"type": "string", "format": "binary"},
                },
                "required": ["id", "sha256", "file"],
            }
        },
        responses={201: PhotoOut, 200: PhotoOut, 409: None, 413: None, 415: None, 422: None},
    )
    def post(self, request):
        fields, received = ingest.receive_photo(
            request._request,
            before_file=self._claim_before_file,
            after_parse=self.claim_idempotency,
        )
        try:
            data = valid(PhotoIn, {k: fields.get(k) for k in fields})
        except BaseException:
            received.discard()
            raise
        photo, created = attaching.photo_attach(
            actor=request.user,
            photo_id=data["id"],
            finding_id=data.get("finding"),
            visit_id=data.get("visit"),
            sha256=data["sha256"],
            received=received,
        )
        return _answer(request, photo, created)


class PhotoDetail(Endpoint):
    @extend_schema(responses=PhotoOut)
    def get(self, request, pk):
        photo = seen(request.user, Photo, pk)
        return Response(PhotoOut(photo, context={"request": request}).data)


class PhotoFile(Endpoint):
    """GET /photos/{id}/thumbnail|preview|original: the bytes, never from a public URL."""

    renderer_classes = [JSONRenderer, AnyMediaRenderer]
    kind = "original"

    @extend_schema(responses={(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY), 409: None})
    def get(self, request, pk):
        photo = seen(request.user, Photo, pk)
        kind = type(self).kind
        name = getattr(photo, kind)
        if not name:
            raise Conflict(code=ErrorCode.PHOTO_NOT_READY)
        content_type = photo.content_type if kind == "original" else "image/jpeg"
        extension = EXTENSIONS[content_type]
        etag = f'"{photo.sha256}-{kind}"'
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponse(status=304)
        elif settings.PHOTO_X_ACCEL_PREFIX:
            # The web server sends the file (an `internal` location over MEDIA_ROOT).
            response = HttpResponse(content_type=content_type)
            response["X-Accel-Redirect"] = settings.PHOTO_X_ACCEL_PREFIX.rstrip("/") + "/" + name
        else:
            response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
        disposition = "attachment" if kind == "original" else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{photo.pk}-{kind}.{extension}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = CSP
        response["Cache-Control"] = "private, max-age=3600"
        response["Vary"] = "Authorization, Cookie"
        response["ETag"] = etag
        return response


class PhotoThumbnail(PhotoFile):
    kind = "thumbnail"


class PhotoPreview(PhotoFile):
    kind = "preview"


class PhotoOriginal(PhotoFile):
    kind = "original"


class UploadCreate(Endpoint):
    """POST /uploads: open a resumable upload; `Location` is where its chunks go."""

    @extend_schema(request=UploadIn, responses={201: None})
    def post(self, request):
        data = valid(UploadIn, request.data)
        upload, created = uploads.upload_create(
            actor=request.user,
            upload_id=data["id"],
            size=data["size"],
            sha256=data["sha256"],
            filename=data["filename"],
            finding_id=data.get("finding"),
            visit_id=data.get("visit"),
        )
        location = reverse("upload-detail", kwargs={"pk": upload.pk}, request=request)
        return Response(
            {"id": str(upload.pk), "offset": upload.offset, "size": upload.size},
            status=201 if created else 200,
            headers={"Location": location, "Upload-Offset": str(upload.offset)},
        )


def _offset_headers(upload) -> dict:
    return {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.size),
        "Cache-Control": "no-store",
    }


@non_atomic
class UploadDetail(Endpoint):
    """HEAD /uploads/{id}: how much arrived; PATCH: the next chunk, at that offset."""

    max_body_bytes = settings.PHOTO_MAX_BYTES

    @extend_schema(responses={200: None})
    def head(self, request, pk):
        upload = uploads.upload_of(request.user, pk)
        return Response(status=200, headers=_offset_headers(upload))

    @extend_schema(
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True)],
        responses={
            204: None,
            201: PhotoOut,
            200: PhotoOut,
            409: None,
            413: None,
            415: None,
            422: None,
        },
    )
    def patch(self, request, pk):
        raw = request._request
        if raw.content_type != "application/offset+octet-stream":
            raise ingest.unsupported()
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError as exc:
            raise ValidationError({"Upload-Offset": [_("缺少或无效。")]}) from exc
        upload, photo, created = uploads.upload_append(
            actor=request.user, upload_id=pk, offset=offset, stream=raw
        )
        headers = _offset_headers(upload)
        if photo is None:
            return Response(status=204, headers=headers)
        headers["Location"] = reverse("photo-detail", kwargs={"pk": photo.pk}, request=request)
        return _answer(request, photo, created, headers)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        uploads.upload_discard(uploads.upload_of(request.user, pk))
        return Response(status=204)
