"""The Django admin: changes made here are audited like any other (actor = the signed-in user)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from audits.choices import Role
from audits.errors import Forbidden
from audits.models import AuditEvent, Checklist, ChecklistItem, Official, Position, Team, Unit, User
from audits.services import teams


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class PositionInline(admin.TabularInline):
    model = Position
    extra = 0
    raw_id_fields = ["unit"]


@admin.register(Official)
class OfficialAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    search_fields = ["name"]
    raw_id_fields = ["user"]
    inlines = [PositionInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "roles", "unit", "is_active"]
    raw_id_fields = ["unit"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("督查"), {"fields": ["display_name", "roles", "unit"]}),
    ]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Saved through the team verbs, which tell the members' apps what joining or leaving
    changes in what they see (a plain save would not)."""

    list_display = ["name", "lead", "owner_unit"]
    fields = ["name", "lead", "members", "owner_unit", "version", "created_by"]
    readonly_fields = ["version", "created_by"]  # the verbs keep them
    filter_horizontal = ["members"]
    raw_id_fields = ["lead", "owner_unit"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # The verbs' rule on who may sit on a team, as choices the form checks first.
        form.base_fields["lead"].queryset = User.objects.filter(roles__contains=[Role.TEAM_LEAD])
        form.base_fields["members"].queryset = User.objects.filter(
            roles__overlap=[Role.INSPECTOR, Role.TEAM_LEAD]
        )
        return form

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        fields = {
            "actor": request.user,
            "name": data["name"],
            "lead": data["lead"].pk,
            "members": [user.pk for user in data["members"]],
            "owner_unit": data["owner_unit"],
        }
        try:
            if change:
                team = teams.team_update(team_id=obj.pk, **fields)
            else:
                team, _created = teams.team_create(team_id=obj.pk, **fields)
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from exc
        obj.version, obj._state.adding, obj._state.db = team.version, False, team._state.db

    def save_related(self, request, form, formsets, change) -> None:
        # The members were set by the verb; only inlines (none today) are left to save.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ["title", "owner_unit"]
    inlines = [ChecklistItemInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is never edited, not even by a superuser through the admin."""

    list_display = ["seq", "at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_label"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
