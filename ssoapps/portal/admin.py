"""Admin for users' second factors: a tenant admin sees their organization's and can remove a lost one.

allauth registers its own admins for EmailAddress and Authenticator, which know nothing of
organizations; they are replaced here so no tenant admin sees another organization's rows.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin

from directory.tenancy import TenantScopedAdmin

from . import services

# Addresses live on the directory user; allauth's EmailAddress table is not used for management.
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)

# How directory.tenancy finds the organization of an authenticator.
Authenticator.tenant_path = "user__organization"


@admin.register(Authenticator)
class AuthenticatorAdmin(TenantScopedAdmin):
    """Users' second factors: viewable, and removable when a user lost their phone or key (never editable)."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")  # never the secret in `data`
    readonly_fields = fields

    # Whoever may change a directory user may see and reset their second factors (the roles grant that).
    def _may_manage_users(self, request) -> bool:
        return request.user.has_perm("directory.change_user")

    def has_module_permission(self, request) -> bool:
        return self._may_manage_users(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_manage_users(request) or super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_manage_users(request) or super().has_delete_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False  # users enrol themselves on the portal

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.authenticator_remove(authenticator=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for authenticator in queryset:
            services.authenticator_remove(authenticator=authenticator, actor=request.user)
