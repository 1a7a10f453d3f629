"""The app's URLs plus constant-body views, served by the same gunicorn through the same
middleware: the floor every API figure is compared with, and two steps on the way up.

- `bench/floor`: a bare Django view (no DRF, no database).
- `bench/drf`: a DRF view without authentication, permission or throttle.
- `bench/drf-jwt`: a DRF view with the API's authentication (device JWT: token check and the
  device-session lookup) and IsAuthenticated, no throttle.
- `bench/drf-auth`: a DRF view with all the API's defaults (the above plus the user throttle).

Uploads (bench/uploads.py), the same multipart body as `POST /api/v1/photos`:

- `bench/upload-floor`: a bare Django view whose only upload handler writes each chunk to a
  temporary file under MEDIA_ROOT, then deletes it: receiving the bytes onto disk and nothing
  else (no DRF, no authentication, no hashing, no database).
- `bench/upload-naive`: what a typical DRF project does: the API's authentication,
  permission and throttle, DRF's multipart parser with Django's default upload handlers, a
  serializer with `ImageField` (Pillow open + verify), then in the request a full decode
  with EXIF orientation applied, a 1600 px preview and a 320 px thumbnail, and the original
  and both JPEGs saved to the default storage. It writes no database row.
"""

import io
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.urls import handler400, handler403, handler404, handler500  # noqa: F401

BODY = {"ok": True, "service": "duchaa", "view": "constant"}
CHUNK = 256 * 1024  # the API's upload handler's chunk (audits/photos/ingest.py)


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BODY)


class DrfBare(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response(BODY)


class DrfJwt(APIView):
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response(BODY)


class DrfAuth(APIView):
    def get(self, request: Request) -> Response:
        return Response(BODY)


# --- uploads ---------------------------------------------------------------------------------


class _Spooled:
    """What the floor's handler leaves for the view: where the bytes went, how many."""

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size


class DiskOnlyHandler(FileUploadHandler):
    """Every file part straight to its own temporary file, one chunk in memory at a time."""

    chunk_size = CHUNK

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self._fd: int | None = None
        self._path = ""
        self._size = 0

    def new_file(self, *args: object, **kwargs: object) -> None:
        super().new_file(*args, **kwargs)
        directory = Path(settings.MEDIA_ROOT) / "bench-floor"
        directory.mkdir(parents=True, exist_ok=True)
        self._fd, self._path = tempfile.mkstemp(dir=directory, suffix=".part")
        self._size = 0
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        view = memoryview(raw_data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._size += len(raw_data)

    def file_complete(self, file_size: int) -> _Spooled:
        os.close(self._fd)
        self._fd = None
        return _Spooled(self._path, self._size)

    def upload_interrupted(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._path and os.path.exists(self._path):
            os.unlink(self._path)


@csrf_exempt
@require_POST
def upload_floor(request: HttpRequest) -> HttpResponse:
    request.upload_handlers = [DiskOnlyHandler(request)]
    spooled = request.FILES.getlist("file")
    for item in spooled:
        os.unlink(item.path)
    if len(spooled) != 1:
        return JsonResponse({"detail": "one file part expected"}, status=400)
    return JsonResponse({"id": request.POST.get("id"), "size": spooled[0].size}, status=201)


class NaiveIn(serializers.Serializer):
    id = serializers.UUIDField()
    file = serializers.ImageField()


def _jpeg(image: object) -> ContentFile:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return ContentFile(out.getvalue())


class NaiveUpload(APIView):
    """The project's DRF defaults, DRF's own parsers, Pillow in the request."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request) -> Response:
        from PIL import Image, ImageOps

        data = NaiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload, name = data.validated_data["file"], f"bench-naive/{data.validated_data['id']}"
        upload.seek(0)
        with Image.open(upload) as opened:
            # exif_transpose loads every pixel: what a phone photo's orientation costs when
            # it is applied before resizing, as most hand-written code does.
            full = ImageOps.exif_transpose(opened).convert("RGB")
        for side, kind in ((1600, "preview"), (320, "thumb")):
            copy = full.copy()
            copy.thumbnail((side, side))
            default_storage.save(f"{name}-{kind}.jpg", _jpeg(copy))
        upload.seek(0)
        default_storage.save(f"{name}-original", upload)
        return Response(
            {"id": str(data.validated_data["id"]), "width": full.width, "height": full.height},
            status=201,
        )


urlpatterns = [
    path("bench/floor", floor, name="bench-floor"),
    path("bench/drf", DrfBare.as_view(), name="bench-drf"),
    path("bench/drf-jwt", DrfJwt.as_view(), name="bench-drf-jwt"),
    path("bench/drf-auth", DrfAuth.as_view(), name="bench-drf-auth"),
    path("bench/upload-floor", upload_floor, name="bench-upload-floor"),
    path("bench/upload-naive", NaiveUpload.as_view(), name="bench-upload-naive"),
    path("", include("server.urls")),
]
