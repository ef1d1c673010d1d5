"""Admin for the platform-level records: organizations (the tenants) and the admin roles.

Operators create and remove tenants; a tenant's Administrators change their own organization's
security settings (the matrix's change_org_settings); every other role only views them.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.db.models import Count
from django.http import HttpResponseRedirect

from core.tenancy import TenantScopedAdmin

from . import services
from .errors import error_sentence
from .models import Organization
from .permissions import Refused, permission_check, permitted


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    """Tenants: operators create and remove them; a tenant's Administrators change their own settings."""

    list_display = ("name", "slug", "require_mfa", "user_count", "created_at")
    search_fields = ("name", "slug")
    fields = ("name", "slug", "require_mfa")

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ("name",)} if request.user.is_superuser else {}

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ("slug",)  # the slug names the tenant in URLs

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return permitted(actor=request.user, action="change_org_settings", organization=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if request.method == "POST" else None
        if obj is not None and self.has_view_permission(request, obj) and not self.has_change_permission(request, obj):
            try:  # say why and record the attempt, instead of Django's bare 403
                permission_check(actor=request.user, action="change_org_settings", organization=obj)
            except Refused as exc:
                self.message_user(request, error_sentence(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.organization_create(
                name=obj.name, slug=obj.slug, require_mfa=obj.require_mfa, actor=request.user
            )
            obj.__dict__.update(created.__dict__)
            return
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.ORGANIZATION_SETTINGS}
        services.organization_update(organization=obj, actor=request.user, data=data)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_total=Count("users"))

    @admin.display(description="Users", ordering="user_total")
    def user_count(self, obj):
        return obj.user_total


class RoleAdmin(admin.ModelAdmin):
    """Admin roles are definitions shared by every tenant: only platform operators see them."""

    list_display = ("name",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


admin.site.unregister(Group)
admin.site.register(Group, RoleAdmin)
