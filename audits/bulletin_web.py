"""Leadership's web pages: the dashboard of figures, the bulletin inbox, and the planners'
pages to request, edit, preview and issue a bulletin and follow its acknowledgements.

Thin views over the same verbs and selectors as the API (never the API layer): parse a
form, call one verb or selector, answer. A page that is not for the user's roles, or a
bulletin they may not see, is a 404, as on the API; a refusal is shown on the page with the
status the API would give it.
"""

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.choices import Role
from audits.errors import DomainError, NotFound
from audits.models import Bulletin, BulletinStatus, Campaign, Unit, User
from audits.permissions import issues
from audits.problems import STATUS
from audits.selectors import bulletins as reads
from audits.services import bulletins
from audits.visibility import visible

# While a bulletin compiles its page reloads itself this often (seconds): no script needed.
REFRESH_SECONDS = 2


def page(*roles: str) -> Callable:
    """For signed-in users with one of `roles` (any role when none is named); else 404."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if roles and not request.user.has_role(*roles):
                raise Http404
            return view(request, *args, **kwargs)

        return inner

    return wrap


def _refusal(exc: DomainError) -> tuple[str, int]:
    """What to tell the user and the status the API answers with."""
    if exc.errors:
        text = " ".join(str(m) for messages in exc.errors.values() for m in messages)
    else:
        text = str(exc.message)
    return text, STATUS.get(exc.code, 400)


# --- the dashboard -------------------------------------------------------------------------


class PeriodForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("范围"), required=False)
    start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = reads.units_to_report(user)
        self.fields["unit"].empty_label = None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("截止日期不能早于起始日期。"))
        return data


def bar_chart(bars: list[tuple[str, int]], most: int) -> dict | None:
    """Horizontal bars drawn as SVG by the server: a label, a bar, the figure (as text)."""
    if not bars:
        return None
    left, span, bar, step = 150, 380, 18, 28
    return {
        "width": left + span + 60,
        "height": step * len(bars) + 6,
        "left": left,
        "bar": bar,
        "bars": [
            {
                "label": label,
                "n": n,
                "y": 6 + step * i,
                "text_y": 6 + step * i + 14,
                "length": round(span * n / most),
                "value_x": left + round(span * n / most) + 6,
            }
            for i, (label, n) in enumerate(bars)
        ],
    }


@page(Role.LEADER, Role.PLANNER, Role.AUDITOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    initial = {"unit": user.unit_id, "start": date(today.year, 1, 1), "end": today}
    form = PeriodForm(request.GET or initial, user=user)
    figures, status = None, 200
    if form.is_valid():
        figures = reads.leadership_figures(
            user,
            scope=form.cleaned_data["unit"] or user.unit,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
        )
    else:
        status = 400
    chart = bar_chart(figures["bars"], figures["most"]) if figures else None
    return render(
        request,
        "audits/leadership/dashboard.html",
        {"form": form, "f": figures, "chart": chart, "section": "leadership"},
        status=status,
    )


# --- the inbox and the planners' list ------------------------------------------------------


@page()
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    planned = None
    if user.has_role(Role.PLANNER):
        planned = reads.bulletins_for(user).filter(issuer__path__startswith=user.unit.path)[:100]
    return render(
        request,
        "audits/bulletins/inbox.html",
        {"inbox": reads.inbox_for(user)[:200], "planned": planned, "section": "bulletins"},
    )


# --- requesting ----------------------------------------------------------------------------


class RequestForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("通报范围"))
    period_start = forms.DateField(
        label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(), label=_("督查专题（可选）"), required=False
    )
    title = forms.CharField(label=_("标题（可选）"), max_length=200, required=False)
    requirements = forms.CharField(
        label=_("工作要求"),
        max_length=bulletins.MAX_REQUIREMENTS,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = reads.units_to_report(user)
        self.fields["campaign"].queryset = reads.campaigns_to_report(user)


@page(Role.PLANNER)
def new(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    status = 200
    if request.method == "POST":
        form = RequestForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                bulletin = bulletins.bulletin_request(
                    actor=user,
                    unit=data["unit"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    campaign=data["campaign"],
                    title=data["title"],
                    requirements=data["requirements"],
                )
            except DomainError as exc:
                for name, messages in (exc.errors or {"__all__": [exc.message]}).items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, str(message))
                status = STATUS.get(exc.code, 400)
            else:
                return redirect("bulletin-page", pk=bulletin.pk)
        else:
            status = 400
    else:
        start = date(today.year, today.month, 1)
        form = RequestForm(
            initial={"unit": user.unit_id, "period_start": start, "period_end": today}, user=user
        )
    return render(
        request,
        "audits/bulletins/new.html",
        {"form": form, "section": "bulletins"},
        status=status,
    )


# --- one bulletin --------------------------------------------------------------------------


class EditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("标题"), max_length=200)
    requirements = forms.CharField(
        label=_("工作要求"),
        max_length=bulletins.MAX_REQUIREMENTS,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    added = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        label=_("另行抄送"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Leadership and organisation departments: the people a bulletin is copied to.
        people = (
            reads.may_be_added(user)
            .filter(roles__overlap=[Role.LEADER, Role.PLANNER])
            .order_by("unit__path", "username")
        )
        self.fields["added"].queryset = people
        self.fields["added"].label_from_instance = reads.person_label


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def _seen(user: User, pk: Any) -> Bulletin:
    bulletin = (
        visible(user, Bulletin)
        .select_related("unit", "issuer", "campaign", "corrects")
        .filter(pk=pk)
        .first()
    )
    if bulletin is None:
        raise Http404
    return bulletin


def _detail(
    request: HttpRequest,
    bulletin: Bulletin,
    *,
    form: EditForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    recipients = list(reads.recipients_of(user, bulletin))
    mine = next((r for r in recipients if r.user_id == user.pk), None)
    editable = issues(user, bulletin) and bulletin.status != BulletinStatus.ISSUED
    if editable and form is None:
        added = [r.user_id for r in recipients if r.source == "added"]
        form = EditForm(
            initial={
                "version": bulletin.version,
                "title": bulletin.title,
                "requirements": bulletin.requirements,
                "added": added,
            },
            user=user,
        )
    response = render(
        request,
        "audits/bulletins/detail.html",
        {
            "b": bulletin,
            "recipients": recipients,
            "mine": mine,
            "planner": issues(user, bulletin),
            "form": form if editable else None,
            "error": error,
            "acknowledged": sum(1 for r in recipients if r.acknowledged_at),
            "section": "bulletins",
        },
        status=status,
    )
    if bulletin.status == BulletinStatus.COMPILING:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@page()
def detail(request: HttpRequest, pk: Any) -> HttpResponse:
    return _detail(request, _seen(request.user, pk))


@page(Role.PLANNER)
def edit(request: HttpRequest, pk: Any) -> HttpResponse:
    if request.method != "POST":
        return redirect("bulletin-page", pk=pk)
    user = request.user
    bulletin = _seen(user, pk)
    form = EditForm(request.POST, user=user)
    if not form.is_valid():
        return _detail(request, bulletin, form=form, status=400)
    data = form.cleaned_data
    try:
        bulletins.bulletin_update(
            actor=user,
            bulletin_id=pk,
            if_match=f'"{data["version"]}"',
            title=data["title"],
            requirements=data["requirements"],
            added=list(data["added"]),
        )
    except DomainError as exc:
        error, status = _refusal(exc)
        return _detail(request, _seen(user, pk), form=form, error=error, status=status)
    return redirect("bulletin-page", pk=pk)


def _act(request: HttpRequest, pk: Any, verb: Callable[..., Any]) -> HttpResponse:
    """A button's form post: the verb, then the bulletin's page (with the refusal, if any)."""
    if request.method != "POST":
        return redirect("bulletin-page", pk=pk)
    user = request.user
    _seen(user, pk)
    form = VersionForm(request.POST)
    version = form.cleaned_data.get("version") if form.is_valid() else None
    try:
        verb(actor=user, bulletin_id=pk, **({"if_match": f'"{version}"'} if version else {}))
    except DomainError as exc:
        error, status = _refusal(exc)
        return _detail(request, _seen(user, pk), error=error, status=status)
    return redirect("bulletin-page", pk=pk)


@page(Role.PLANNER)
def issue(request: HttpRequest, pk: Any) -> HttpResponse:
    return _act(request, pk, bulletins.bulletin_issue)


@page(Role.PLANNER)
def recompile(request: HttpRequest, pk: Any) -> HttpResponse:
    return _act(request, pk, bulletins.bulletin_recompile)


@page()
def acknowledge(request: HttpRequest, pk: Any) -> HttpResponse:
    return _act(request, pk, bulletins.bulletin_acknowledge)


@page()
def document_file(request: HttpRequest, pk: Any, kind: str) -> HttpResponse:
    """The PDF (opens in the browser) or the Word copy (a download) of a bulletin."""
    try:
        bulletin, name, digest = reads.bulletin_file(request.user, pk, kind)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise Http404 from exc
        return _detail(request, _seen(request.user, pk), error=_refusal(exc)[0], status=409)
    response = FileResponse(default_storage.open(name, "rb"), content_type=reads.FILE_TYPES[kind])
    disposition = "inline" if kind == "pdf" else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="bulletin-{bulletin.pk}.{kind}"; '
        f"filename*=UTF-8''{quote(reads.file_name(bulletin, kind))}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    response["ETag"] = f'"{digest}"'
    return response
