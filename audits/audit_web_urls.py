"""The auditors' pages, under /audit/."""

from django.urls import path

from audits import audit_web

urlpatterns = [
    path("", audit_web.search, name="audit-search"),
    # The object is named in the query: an id is whatever text was recorded (a typed
    # username with slashes, dots, `?`, nothing at all), which a path segment cannot carry.
    path("object/", audit_web.object_history, name="audit-object"),
    path("verify/", audit_web.verification, name="audit-verify-page"),
]
