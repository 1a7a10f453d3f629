from django.urls import include, path

from audits.api import bulletin_views as bv
from audits.api import inspection_views as iv
from audits.api import notification_views as nv
from audits.api import photo_views as pv
from audits.api import views
from audits.api.sync_views import SyncView

urlpatterns = [
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("me", views.MeView.as_view(), name="me"),
    path("units", views.UnitList.as_view(), name="unit-list"),
    path("units/<uuid:pk>", views.UnitDetail.as_view(), name="unit-detail"),
    path("officials", views.OfficialList.as_view(), name="official-list"),
    path("officials/<uuid:pk>", views.OfficialDetail.as_view(), name="official-detail"),
    path("users", views.UserList.as_view(), name="user-list"),
]

urlpatterns += [
    path("checklists", iv.ChecklistList.as_view(), name="checklist-list"),
    path("checklists/<uuid:pk>", iv.ChecklistDetail.as_view(), name="checklist-detail"),
    path("teams", iv.TeamList.as_view(), name="team-list"),
    path("campaigns", iv.CampaignList.as_view(), name="campaign-list"),
    path("campaigns/<uuid:pk>", iv.CampaignDetail.as_view(), name="campaign-detail"),
    path("campaigns/<uuid:pk>/draw", iv.CampaignDraw.as_view(), name="campaign-draw"),
    path("visits", iv.VisitList.as_view(), name="visit-list"),
    path("visits/<uuid:pk>", iv.VisitDetail.as_view(), name="visit-detail"),
    path("visits/<uuid:pk>/check-in", iv.VisitCheckIn.as_view(), name="visit-check-in"),
    path("visits/<uuid:pk>/submit", iv.VisitSubmit.as_view(), name="visit-submit"),
    path("visits/<uuid:pk>/close", iv.VisitClose.as_view(), name="visit-close"),
    path("visits/<uuid:pk>/cancel", iv.VisitCancel.as_view(), name="visit-cancel"),
    path("findings", iv.FindingList.as_view(), name="finding-list"),
    path("findings/<uuid:pk>", iv.FindingDetail.as_view(), name="finding-detail"),
    path("findings/<uuid:pk>/confirm", iv.FindingConfirm.as_view(), name="finding-confirm"),
    path("findings/<uuid:pk>/dismiss", iv.FindingDismiss.as_view(), name="finding-dismiss"),
    path("findings/<uuid:pk>/publish", iv.FindingPublish.as_view(), name="finding-publish"),
    path(
        "findings/<uuid:pk>/rectification",
        iv.FindingRectification.as_view(),
        name="finding-rectification",
    ),
    path("findings/<uuid:pk>/verify", iv.FindingVerify.as_view(), name="finding-verify"),
]

urlpatterns += [path("sync", SyncView.as_view(), name="sync")]
urlpatterns += [path("stats", iv.StatsView.as_view(), name="stats")]
urlpatterns += [
    path("notifications", nv.NotificationList.as_view(), name="notification-list"),
    path("notifications/<uuid:pk>/read", nv.NotificationRead.as_view(), name="notification-read"),
]

urlpatterns += [
    path("photos", pv.PhotoCreate.as_view(), name="photo-list"),
    path("photos/<uuid:pk>", pv.PhotoDetail.as_view(), name="photo-detail"),
    path("photos/<uuid:pk>/thumbnail", pv.PhotoThumbnail.as_view(), name="photo-thumbnail"),
    path("photos/<uuid:pk>/preview", pv.PhotoPreview.as_view(), name="photo-preview"),
    path("photos/<uuid:pk>/original", pv.PhotoOriginal.as_view(), name="photo-original"),
    path("uploads", pv.UploadCreate.as_view(), name="upload-list"),
    path("uploads/<uuid:pk>", pv.UploadDetail.as_view(), name="upload-detail"),
]

urlpatterns += [
    path("bulletins", bv.BulletinList.as_view(), name="bulletin-list"),
    path("bulletins/<uuid:pk>", bv.BulletinDetail.as_view(), name="bulletin-detail"),
    path("bulletins/<uuid:pk>/pdf", bv.BulletinPdf.as_view(), name="bulletin-pdf"),
    path("bulletins/<uuid:pk>/docx", bv.BulletinDocx.as_view(), name="bulletin-docx"),
    path("bulletins/<uuid:pk>/issue", bv.BulletinIssue.as_view(), name="bulletin-issue"),
    path("bulletins/<uuid:pk>/compile", bv.BulletinCompile.as_view(), name="bulletin-compile"),
    path(
        "bulletins/<uuid:pk>/acknowledge",
        bv.BulletinAcknowledge.as_view(),
        name="bulletin-acknowledge",
    ),
]

urlpatterns += [path("audit/", include("audits.api.audit_urls"))]
