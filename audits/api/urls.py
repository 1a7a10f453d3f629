from django.urls import path

from audits.api import views

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
