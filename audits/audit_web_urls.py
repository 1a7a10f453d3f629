"""The auditors' pages, under /audit/."""

from django.urls import path

from audits import audit_web

urlpatterns = [
    path("", audit_web.search, name="audit-search"),
    path(
        "object/<str:object_type>/<str:object_id>/", audit_web.object_history, name="audit-object"
    ),
    path("verify/", audit_web.verification, name="audit-verify-page"),
]
