"""Leadership's pages: the dashboard under /leadership/, bulletins under /bulletins/."""

from django.urls import path

from audits import bulletin_web as web

leadership = [path("", web.dashboard, name="leadership-dashboard")]

bulletins = [
    path("", web.inbox, name="bulletin-inbox"),
    path("new/", web.new, name="bulletin-new"),
    path("<uuid:pk>/", web.detail, name="bulletin-page"),
    path("<uuid:pk>/edit/", web.edit, name="bulletin-edit"),
    path("<uuid:pk>/issue/", web.issue, name="bulletin-issue-page"),
    path("<uuid:pk>/compile/", web.recompile, name="bulletin-compile-page"),
    path("<uuid:pk>/acknowledge/", web.acknowledge, name="bulletin-acknowledge-page"),
    path("<uuid:pk>/pdf", web.document_file, {"kind": "pdf"}, name="bulletin-pdf-page"),
    path("<uuid:pk>/docx", web.document_file, {"kind": "docx"}, name="bulletin-docx-page"),
]
