"""GET /api/v1/sync: the mobile app's offline cache (see audits/selectors/sync.py)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from audits.api import inspection_serializers as io
from audits.api.base import Endpoint
from audits.api.photo_serializers import PhotoOut
from audits.api.serializers import NotificationOut, UnitOut
from audits.api.util import valid
from audits.selectors.photos import for_reader
from audits.selectors.sync import sync_page
from audits.services.visits import visit_read_record


class SyncParams(s.Serializer):
    cursor = s.CharField(required=False, max_length=8192)
    limit = s.IntegerField(required=False, min_value=1, max_value=2000, default=500)


OUT = {
    "units": UnitOut,
    "checklists": io.ChecklistOut,
    "visits": io.VisitOut,
    "findings": io.FindingOut,
    "photos": PhotoOut,
    "notifications": NotificationOut,
}


class SyncChanges(s.Serializer):
    units = UnitOut(many=True)
    checklists = io.ChecklistOut(many=True)
    visits = io.VisitOut(many=True)
    findings = io.FindingOut(many=True)
    photos = PhotoOut(many=True)
    notifications = NotificationOut(many=True)


class Removed(s.Serializer):
    type = s.ChoiceField(choices=["visit", "finding"])
    id = s.UUIDField()


class SyncOut(s.Serializer):
    cursor = s.CharField()
    has_more = s.BooleanField()
    reset = s.BooleanField()
    changes = SyncChanges()
    removed = Removed(many=True)


class SyncView(Endpoint):
    @extend_schema(
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
        responses=SyncOut,
    )
    def get(self, request):
        params = valid(SyncParams, request.query_params)
        page = sync_page(request.user, params.get("cursor"), params["limit"])
        visit_read_record(actor=request.user, visits=page.changes["visits"])
        for_reader(request.user, page.changes["photos"])
        changes = {
            kind: OUT[kind](rows, many=True, context={"request": request}).data
            for kind, rows in page.changes.items()
        }
        return Response(
            {
                "cursor": page.cursor,
                "has_more": page.has_more,
                "reset": page.reset,
                "changes": changes,
                "removed": page.removed,
            }
        )
