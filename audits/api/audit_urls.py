"""Audit trail API, under /api/v1/audit/ (auditors; the public key is public)."""

from django.urls import path

from audits.api import audit_views as av

urlpatterns = [
    path("events", av.AuditEventList.as_view(), name="audit-event-list"),
    path("events.csv", av.AuditEventCSV.as_view(), name="audit-event-csv"),
    path("events/<int:seq>/proof", av.AuditEventProof.as_view(), name="audit-event-proof"),
    path("verify", av.AuditVerify.as_view(), name="audit-verify"),
    path("head", av.AuditHead.as_view(), name="audit-head"),
    path("consistency", av.AuditConsistency.as_view(), name="audit-consistency"),
    path("public-key", av.AuditPublicKey.as_view(), name="audit-public-key"),
]
