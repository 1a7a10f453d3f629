"""The auditors' web page: search the trail, an object's whole history, verification status.

Signed-out visitors are sent to sign in; signed-in non-auditors get 404, as on the API.
"""

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from audits.errors import Invalid
from audits.trail import review
from audits.trail.seal import current_head
from audits.trail.verify import verify
from audits.visibility import reviews_trail

PAGE = 50
_SEQ = re.compile(r"^[0-9]{1,18}$")


def _auditor(request: HttpRequest) -> None:
    if not reviews_trail(request.user):
        raise Http404


def _row(event: Any) -> dict[str, Any]:
    """An event for the page: every value is shown as text, every link built as a query.

    Changes go to the template as (field, before, after) rows: looked up as a dict, a field
    named `items` (the data of an event can have any keys) would stand in for the method.
    """
    item = review.as_item(event)
    query = urlencode({"type": event.object_type, "id": event.object_id})
    item["history_url"] = f"{reverse('audit-object')}?{query}"
    item["change_rows"] = [(k, v["before"], v["after"]) for k, v in item["changes"].items()]
    return item


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    context: dict[str, Any] = {
        "filters": {name: request.GET.get(name, "") for name in review.FILTERS},
        "head": current_head(),
        "errors": {},
        "events": [],
        "next_query": "",
    }
    try:
        filters = review.parse_filters(request.GET)
    except Invalid as exc:
        # Shown next to each field, with the form as typed; no list that would look like
        # an answer to the question asked.
        context["errors"] = {
            name: " ".join(map(str, msgs)) for name, msgs in (exc.errors or {}).items()
        }
        return render(request, "audits/audit/search.html", context, status=400)
    qs = review.events(request.user, filters).order_by("-seq")
    before = request.GET.get("before", "")
    if _SEQ.match(before):
        qs = qs.filter(seq__lt=int(before))
    rows = list(qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = str(rows[-1].seq)
        context["next_query"] = query.urlencode()
    context["events"] = [_row(e) for e in rows]
    return render(request, "audits/audit/search.html", context)


@login_required
def object_history(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    object_type, object_id = request.GET.get("type"), request.GET.get("id")
    if object_type is None or object_id is None:
        raise Http404
    qs = review.events(request.user, {"object_type": object_type, "object_id": object_id})
    events = [_row(e) for e in qs.order_by("seq")[:2000]]
    return render(
        request,
        "audits/audit/object.html",
        {"object_type": object_type, "object_id": object_id, "events": events},
    )


@login_required
def verification(request: HttpRequest) -> HttpResponse:
    _auditor(request)
    return render(request, "audits/audit/verify.html", {"report": verify().as_dict()})
