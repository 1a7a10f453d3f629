from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from audits import bulletin_web_urls, health, web

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/login/", web.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's own sign-in form would bypass the limits and the audit: send it to ours.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("audits.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", include("audits.audit_web_urls")),
    path("leadership/", include(bulletin_web_urls.leadership)),
    path("bulletins/", include(bulletin_web_urls.bulletins)),
]

handler400 = "audits.web.bad_request"
handler403 = "audits.web.forbidden"
handler404 = "audits.web.not_found"
handler500 = "audits.web.error"
