"""Browser-facing pages: sign-in, the home page (signed-in users) and the error handlers."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from django.views.defaults import page_not_found, server_error

from audits.errors import ErrorCode
from audits.middleware import client_ip, is_api
from audits.problems import problem_response
from audits.selectors.org import teams_of
from audits.services import accounts


class SignInForm(AuthenticationForm):
    """Django's sign-in form, checked by the one sign-in verb (limits, audit) instead."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("用户名或密码错误。"),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.throttled: accounts.SignInThrottled | None = None

    @sensitive_variables("password")
    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = accounts.user_sign_in(
                    username=username,
                    password=password,
                    address=client_ip(self.request),
                    via="web",
                )
            except accounts.BadCredentials:
                raise self.get_invalid_login_error() from None
            except accounts.SignInThrottled as exc:
                self.throttled = exc
                raise forms.ValidationError(str(exc.message), code=ErrorCode.THROTTLED) from None
        return self.cleaned_data


class SignInView(LoginView):
    """`/accounts/login/`, the web pages' (and the admin's) only sign-in."""

    authentication_form = SignInForm

    def form_valid(self, form: SignInForm) -> HttpResponse:
        response = super().form_valid(form)
        accounts.web_session_open(user=form.get_user())
        return response

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.throttled.wait)
        return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/home.html", {"teams": teams_of(request.user)})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return problem_response(ErrorCode.NOT_FOUND)
    return page_not_found(request, exception)


def error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return problem_response(ErrorCode.SERVER_ERROR)
    return server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return problem_response(ErrorCode.BAD_REQUEST)
    from django.views.defaults import bad_request as default

    return default(request, exception)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return problem_response(ErrorCode.PERMISSION_DENIED)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)
