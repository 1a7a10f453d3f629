"""Bulletins: request (202, a worker compiles), read, edit a draft, issue, files, acknowledge."""

from urllib.parse import quote

from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from audits.api import bulletin_serializers as io
from audits.api.base import Endpoint, ListEndpoint
from audits.api.pagination import CursorPage
from audits.api.util import referenced, seen, valid, versioned
from audits.models import Bulletin, BulletinRecipient, Campaign, Unit, User
from audits.selectors import bulletins as reads
from audits.services import bulletins
from audits.visibility import visible


def _out(request, bulletin: Bulletin, status: int = 200) -> Response:
    bulletin = seen(request.user, Bulletin, bulletin.pk)  # as the caller sees it, fresh
    return versioned(io.BulletinOut(bulletin, context={"request": request}).data, bulletin, status)


class NewestFirst(CursorPage):
    ordering = ("-created_at", "id")


class BulletinList(ListEndpoint):
    serializer_class = io.BulletinOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["compiling", "draft", "failed", "issued"]),
            OpenApiParameter("unit", OpenApiTypes.UUID, description="by or about this subtree"),
            OpenApiParameter("year", int),
            OpenApiParameter("addressed", bool, description="only those sent to the caller"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user = self.request.user
        params = valid(io.BulletinFilter, self.request.query_params)
        unit = seen(user, Unit, params["unit"]) if params.get("unit") else None
        qs = reads.bulletins_for(
            user,
            status=params.get("status"),
            unit=unit,
            year=params.get("year"),
            addressed=params["addressed"],
        )
        rows = visible(user, BulletinRecipient).select_related("user").order_by("kind", "label")
        return qs.prefetch_related(Prefetch("recipients", rows, to_attr="seen_recipients"))

    @extend_schema(request=io.BulletinIn, responses={202: io.BulletinOut})
    def post(self, request):
        data = valid(io.BulletinIn, request.data)
        user = request.user
        bulletin = bulletins.bulletin_request(
            actor=user,
            unit=referenced(user, Unit, data["unit"], "unit") if data.get("unit") else None,
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
            campaign=(
                referenced(user, Campaign, data["campaign"], "campaign")
                if data.get("campaign")
                else None
            ),
            corrects=(
                referenced(user, Bulletin, data["corrects"], "corrects")
                if data.get("corrects")
                else None
            ),
            title=data.get("title", ""),
            requirements=data.get("requirements", ""),
        )
        response = _out(request, bulletin, status=202)
        response["Location"] = reverse(
            "bulletin-detail", kwargs={"pk": bulletin.pk}, request=request
        )
        return response


class BulletinDetail(Endpoint):
    @extend_schema(responses=io.BulletinOut)
    def get(self, request, pk):
        return _out(request, seen(request.user, Bulletin, pk))

    @extend_schema(
        request=io.BulletinPatch,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
        responses={200: io.BulletinOut, 409: None, 412: None, 428: None},
    )
    def patch(self, request, pk):
        data = valid(io.BulletinPatch, request.data)
        user = request.user
        added = None
        if "added_recipients" in data:
            added = [
                referenced(user, User, uid, "added_recipients") for uid in data["added_recipients"]
            ]
        bulletin = bulletins.bulletin_update(
            actor=user,
            bulletin_id=pk,
            if_match=request.headers.get("If-Match"),
            title=data.get("title"),
            requirements=data.get("requirements"),
            added=added,
        )
        return _out(request, bulletin)


_OPTIONAL_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="the version previewed; a draft changed since is refused (412)",
)


class BulletinIssue(Endpoint):
    """POST /bulletins/{id}/issue: number it (第N期), freeze its PDF, queue its delivery."""

    @extend_schema(
        request=None,
        parameters=[_OPTIONAL_IF_MATCH],
        responses={200: io.BulletinOut, 403: None, 409: None, 412: None},
    )
    def post(self, request, pk):
        bulletin = bulletins.bulletin_issue(
            actor=request.user, bulletin_id=pk, if_match=request.headers.get("If-Match")
        )
        return _out(request, bulletin)


class BulletinCompile(Endpoint):
    """POST /bulletins/{id}/compile: compile a draft again from the records as they are
    now, or retry a failed compile (202; a worker compiles it)."""

    @extend_schema(request=None, parameters=[_OPTIONAL_IF_MATCH], responses={202: io.BulletinOut})
    def post(self, request, pk):
        bulletin = bulletins.bulletin_recompile(
            actor=request.user, bulletin_id=pk, if_match=request.headers.get("If-Match")
        )
        return _out(request, bulletin, status=202)


class BulletinAcknowledge(Endpoint):
    """POST /bulletins/{id}/acknowledge: the recipient confirms receipt of their copy."""

    @extend_schema(request=None, responses={200: io.BulletinOut, 403: None})
    def post(self, request, pk):
        bulletins.bulletin_acknowledge(actor=request.user, bulletin_id=pk)
        return _out(request, seen(request.user, Bulletin, pk))


class AnyMediaRenderer(JSONRenderer):
    """Lets a client ask for the document (`Accept: application/pdf`); errors stay JSON."""

    media_type = "*/*"
    format = "bytes"


class BulletinFile(Endpoint):
    """GET /bulletins/{id}/pdf|docx: the bytes, to those who may see the bulletin only."""

    renderer_classes = [JSONRenderer, AnyMediaRenderer]
    kind = "pdf"

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            409: None,
        }
    )
    def get(self, request, pk):
        kind = type(self).kind
        bulletin, name, digest = reads.bulletin_file(request.user, pk, kind)
        etag = f'"{digest}"'
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponse(status=304)
        else:
            response = FileResponse(
                default_storage.open(name, "rb"), content_type=reads.FILE_TYPES[kind]
            )
        # The PDF opens in the browser; the Word copy is for saving and editing.
        disposition = "inline" if kind == "pdf" else "attachment"
        filename = reads.file_name(bulletin, kind)
        response["Content-Disposition"] = (
            f'{disposition}; filename="bulletin-{bulletin.pk}.{kind}"; '
            f"filename*=UTF-8''{quote(filename)}"
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Authorization, Cookie"
        response["ETag"] = etag
        return response


class BulletinPdf(BulletinFile):
    kind = "pdf"


class BulletinDocx(BulletinFile):
    kind = "docx"
