"""Views of the field workflow: parse, call one service or selector, answer."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response

from audits.api import inspection_serializers as io
from audits.api.base import Endpoint, ListEndpoint
from audits.api.util import referenced, seen, valid, versioned
from audits.models import (
    Campaign,
    Checklist,
    ChecklistItem,
    Finding,
    Official,
    Team,
    Unit,
    Visit,
)
from audits.selectors import inspections as reads
from audits.services import campaigns, draws, findings, teams, visits
from audits.visibility import visible


def _created(data: dict, obj, created: bool):
    """201 for a new row, 200 for a repeat of the same create (client-chosen ids)."""
    return versioned(data, obj, status=201 if created else 200)


class ChecklistList(ListAPIView):
    serializer_class = io.ChecklistOut

    def get_queryset(self):
        return visible(self.request.user, Checklist).prefetch_related("items")


class ChecklistDetail(RetrieveAPIView):
    serializer_class = io.ChecklistOut

    def get_queryset(self):
        return visible(self.request.user, Checklist).prefetch_related("items")


class TeamList(ListEndpoint):
    serializer_class = io.TeamOut

    def get_queryset(self):
        return visible(self.request.user, Team).prefetch_related("members")

    @extend_schema(request=io.TeamIn, responses={201: io.TeamOut, 200: io.TeamOut})
    def post(self, request):
        data = valid(io.TeamIn, request.data)
        team, created = teams.team_create(
            actor=request.user,
            name=data["name"],
            lead=data["lead"],
            members=data["members"],
            team_id=data.get("id"),
        )
        return _created(io.TeamOut(team).data, team, created)


class CampaignList(ListEndpoint):
    serializer_class = io.CampaignOut

    @extend_schema(parameters=[OpenApiParameter("mode", str, enum=["unannounced", "announced"])])
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        campaigns.campaign_read_record(actor=request.user, campaigns=self._page_rows)
        return response

    def paginate_queryset(self, queryset):
        self._page_rows = super().paginate_queryset(queryset) or []
        return self._page_rows

    def get_queryset(self):
        params = valid(io.CampaignFilter, self.request.query_params)
        return reads.campaigns_for(self.request.user, mode=params.get("mode"))

    @extend_schema(request=io.CampaignIn, responses={201: io.CampaignOut, 200: io.CampaignOut})
    def post(self, request):
        data = valid(io.CampaignIn, request.data)
        user = request.user
        campaign, created = campaigns.campaign_create(
            actor=user,
            campaign_id=data.get("id"),
            title=data["title"],
            mode=data["mode"],
            unit=referenced(user, Unit, data["unit"], "unit"),
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            checklist=referenced(user, Checklist, data["checklist"], "checklist"),
        )
        return _created(io.CampaignOut(campaign).data, campaign, created)


class CampaignDetail(Endpoint):
    @extend_schema(responses=io.CampaignOut)
    def get(self, request, pk):
        campaign = seen(request.user, Campaign, pk)
        campaigns.campaign_read_record(actor=request.user, campaigns=[campaign])
        return versioned(io.CampaignOut(campaign).data, campaign)


class CampaignDraw(Endpoint):
    @extend_schema(request=io.DrawIn, responses={201: io.DrawOut})
    def post(self, request, pk):
        data = valid(io.DrawIn, request.data)
        user = request.user
        campaign = seen(user, Campaign, pk)
        chosen = None
        if "teams" in data:
            chosen = [referenced(user, Team, t, "teams") for t in data["teams"]]
        draw = draws.campaign_draw(
            actor=user,
            campaign=campaign,
            frame_unit=referenced(user, Unit, data["frame_unit"], "frame_unit"),
            level=data["level"],
            size=data["size"],
            seed=data.get("seed"),
            teams=chosen,
        )
        created = Visit.objects.filter(
            campaign=campaign, target_id__in=draw.targets, drawn=True
        ).order_by("window_start", "id")
        return Response(
            {
                "commitment": draw.commitment,
                "size": draw.size,
                "skipped": draw.skipped,
                "visits": io.VisitOut(created, many=True).data,
            },
            status=201,
        )

    @extend_schema(responses=io.DrawRevealOut)
    def get(self, request, pk):
        campaign = seen(request.user, Campaign, pk)
        if not hasattr(campaign, "draw"):
            raise NotFound()
        return Response(draws.draw_reveal(campaign=campaign, today=timezone.localdate()))


class VisitList(ListEndpoint):
    serializer_class = io.VisitOut

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str),
            OpenApiParameter("campaign", str),
            OpenApiParameter("team", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        visits.visit_read_record(actor=request.user, visits=self._page_rows)
        return response

    def paginate_queryset(self, queryset):
        self._page_rows = super().paginate_queryset(queryset) or []
        return self._page_rows

    def get_queryset(self):
        params = valid(io.VisitFilter, self.request.query_params)
        return reads.visits_for(self.request.user, **params)

    @extend_schema(request=io.VisitIn, responses={201: io.VisitOut})
    def post(self, request):
        data = valid(io.VisitIn, request.data)
        user = request.user
        visit, created = draws.visit_add(
            actor=user,
            visit_id=data.get("id"),
            campaign=referenced(user, Campaign, data["campaign"], "campaign"),
            target=referenced(user, Unit, data["target"], "target"),
            team=referenced(user, Team, data["team"], "team"),
            window_start=data.get("window_start"),
            window_end=data.get("window_end"),
        )
        return _created(io.VisitOut(visit).data, visit, created)


class VisitDetail(Endpoint):
    @extend_schema(responses=io.VisitOut)
    def get(self, request, pk):
        visit = seen(request.user, Visit, pk, reads.visits_for(request.user))
        visits.visit_read_record(actor=request.user, visits=[visit])
        return versioned(io.VisitOut(visit).data, visit)

    @extend_schema(request=io.VisitPatch, responses=io.VisitOut)
    def patch(self, request, pk):
        data = valid(io.VisitPatch, request.data)
        team = referenced(request.user, Team, data["team"], "team") if "team" in data else None
        visit = visits.visit_update(
            actor=request.user,
            visit_id=pk,
            if_match=request.headers.get("If-Match"),
            team=team,
            window_start=data.get("window_start"),
            window_end=data.get("window_end"),
        )
        return versioned(io.VisitOut(visit).data, visit)


class VisitCheckIn(Endpoint):
    @extend_schema(request=io.CheckinIn, responses=io.VisitOut)
    def post(self, request, pk):
        data = valid(io.CheckinIn, request.data)
        visit = visits.visit_check_in(actor=request.user, visit_id=pk, **data)
        return versioned(io.VisitOut(visit).data, visit)


class VisitTransition(Endpoint):
    """POST /visits/{id}/submit, /close, /cancel."""

    service = None

    @extend_schema(request=None, responses=io.VisitOut)
    def post(self, request, pk):
        visit = type(self).service(actor=request.user, visit_id=pk)
        return versioned(io.VisitOut(visit).data, visit)


class VisitSubmit(VisitTransition):
    service = staticmethod(visits.visit_submit)


class VisitClose(VisitTransition):
    service = staticmethod(visits.visit_close)


class VisitCancel(VisitTransition):
    service = staticmethod(visits.visit_cancel)


def _finding_refs(user, data: dict) -> dict:
    """Turn ids in a finding body into rows, checking the caller may refer to them."""
    out = dict(data)
    if "checklist_item" in data:
        out["checklist_item"] = referenced(
            user, ChecklistItem, data["checklist_item"], "checklist_item"
        )
    if data.get("responsible_unit"):
        out["responsible_unit"] = referenced(
            user, Unit, data["responsible_unit"], "responsible_unit"
        )
    if "responsible_officials" in data:
        wanted = set(data["responsible_officials"])
        officials = list(visible(user, Official).filter(pk__in=wanted))
        if len(officials) != len(wanted):
            referenced(user, Official, None, "responsible_officials")
        out["responsible_officials"] = officials
    return out


class FindingList(ListEndpoint):
    serializer_class = io.FindingOut

    @extend_schema(
        parameters=[
            OpenApiParameter("visit", str),
            OpenApiParameter("campaign", str),
            OpenApiParameter("unit", str, description="subtree"),
            OpenApiParameter("status", str),
            OpenApiParameter("severity", str),
            OpenApiParameter("overdue", bool),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = valid(io.FindingFilter, self.request.query_params)
        if params.get("unit"):
            params["unit"] = seen(self.request.user, Unit, params["unit"])
        return reads.findings_for(self.request.user, **params)

    @extend_schema(request=io.FindingIn, responses={201: io.FindingOut})
    def post(self, request):
        data = valid(io.FindingIn, request.data)
        user = request.user
        visit = referenced(user, Visit, data.pop("visit"), "visit")
        refs = _finding_refs(user, data)
        finding, created = findings.finding_create(
            actor=user, finding_id=refs.pop("id"), visit=visit, **refs
        )
        return _created(io.FindingOut(finding).data, finding, created)


class FindingDetail(Endpoint):
    @extend_schema(responses=io.FindingOut)
    def get(self, request, pk):
        finding = seen(request.user, Finding, pk, reads.findings_for(request.user))
        return versioned(io.FindingOut(finding).data, finding)

    @extend_schema(request=io.FindingPatch, responses=io.FindingOut)
    def patch(self, request, pk):
        data = valid(io.FindingPatch, request.data)
        seen(request.user, Finding, pk)
        finding = findings.finding_update(
            actor=request.user,
            finding_id=pk,
            if_match=request.headers.get("If-Match"),
            changes=_finding_refs(request.user, data),
        )
        return versioned(io.FindingOut(finding).data, finding)


class FindingConfirm(Endpoint):
    @extend_schema(request=None, responses=io.FindingOut)
    def post(self, request, pk):
        finding = findings.finding_confirm(actor=request.user, finding_id=pk)
        return versioned(io.FindingOut(finding).data, finding)


class FindingDismiss(Endpoint):
    @extend_schema(request=None, responses=io.FindingOut)
    def post(self, request, pk):
        finding = findings.finding_dismiss(actor=request.user, finding_id=pk)
        return versioned(io.FindingOut(finding).data, finding)


class FindingPublish(Endpoint):
    @extend_schema(request=io.PublishIn, responses=io.FindingOut)
    def post(self, request, pk):
        data = valid(io.PublishIn, request.data)
        finding = findings.finding_publish(actor=request.user, finding_id=pk, **data)
        return versioned(io.FindingOut(finding).data, finding)


class FindingRectification(Endpoint):
    @extend_schema(request=io.RectificationIn, responses=io.FindingOut)
    def post(self, request, pk):
        data = valid(io.RectificationIn, request.data)
        findings.rectification_submit(actor=request.user, finding_id=pk, **data)
        finding = seen(request.user, Finding, pk)
        return versioned(io.FindingOut(finding).data, finding)


class FindingVerify(Endpoint):
    @extend_schema(request=io.VerifyIn, responses=io.FindingOut)
    def post(self, request, pk):
        data = valid(io.VerifyIn, request.data)
        finding = findings.rectification_verify(
            actor=request.user,
            finding_id=pk,
            accepted=data["accepted"],
            comment=data["comment"],
            rectify_by=data.get("rectify_by"),
        )
        return versioned(io.FindingOut(finding).data, finding)


class StatsView(Endpoint):
    """GET /stats: figures over what the caller may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", str),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day, inclusive"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive"),
        ],
        responses=io.StatsOut,
    )
    def get(self, request):
        from audits.selectors.stats import figures

        query = {k: v for k, v in request.query_params.items() if k in ("unit", "from", "to")}
        params = valid(io.StatsParams, {k: v for k, v in query.items() if v})
        unit = seen(request.user, Unit, params["unit"]) if params.get("unit") else None
        return Response(
            figures(request.user, unit=unit, start=params.get("from"), end=params.get("to"))
        )
