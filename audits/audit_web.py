"""The auditors' web page: search the trail, an object's whole history, verification status.

Signed-out visitors are sent to sign in; signed-in non-auditors get 404, as on the API.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from audits.errors import Invalid
from audits.trail import review
from audits.trail.seal import current_head
from audits.trail.verify import verify
from audits.visibility import reviews_trail

PAGE = 50


def _auditor(request: HttpRequest) -> None:
    if not reviews_trail(request.user):
        raise Http404


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    error = None
    try:
        filters = review.parse_filters(request.GET)
    except Invalid as exc:
        filters = {}
        error = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (exc.errors or {}).items())
    qs = review.events(request.user, filters).order_by("-seq")
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(seq__lt=int(before))
    rows = list(qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = str(rows[-1].seq)
    return render(
        request,
        "audits/audit/search.html",
        {
            "events": [review.as_item(e) for e in rows],
            "filters": {name: request.GET.get(name, "") for name in review.FILTERS},
            "next_query": query.urlencode() if more else "",
            "head": current_head(),
            "error": error,
        },
    )


@login_required
def object_history(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    _auditor(request)
    qs = review.events(request.user, {"object_type": object_type, "object_id": object_id})
    events = [review.as_item(e) for e in qs.order_by("seq")[:2000]]
    return render(
        request,
        "audits/audit/object.html",
        {"object_type": object_type, "object_id": object_id, "events": events},
    )


@login_required
def verification(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    return render(request, "audits/audit/verify.html", {"report": verify().as_dict()})
