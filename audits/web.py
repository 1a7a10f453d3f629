"""Browser-facing pages: the home page (signed-in users) and the error handlers."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.defaults import page_not_found, server_error

from audits.errors import ErrorCode
from audits.middleware import is_api
from audits.problems import problem_response
from audits.selectors.org import teams_of


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
