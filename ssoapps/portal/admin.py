"""Admin for users' second factors: a tenant admin sees their organization's; an Administrator removes a lost one.

allauth registers its own admins for EmailAddress and Authenticator, which know nothing of
organizations; they are replaced here so no tenant admin sees another organization's rows.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin

from core.tenancy import TenantScopedAdmin
from directory.matrix_admin import MatrixAdminMixin
from directory.permissions import permitted

from . import services

# Addresses live on the directory user; allauth's EmailAddress table is not used for management.
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)

# How core.tenancy finds the organization of an authenticator.
Authenticator.tenant_path = "user__organization"


@admin.register(Authenticator)
class AuthenticatorAdmin(MatrixAdminMixin, TenantScopedAdmin):
    """Users' second factors: viewable, and removable (the matrix's reset_mfa) when a user lost their phone or key."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")  # never the secret in `data`
    readonly_fields = fields
    actions = ["delete_selected"]
    matrix_delete_action = "reset_mfa"

    def matrix_target(self, obj):
        return obj.user

    # Who may view users may see which factors they use; removing one is the matrix's reset_mfa.
    def has_module_permission(self, request) -> bool:
        return permitted(actor=request.user, action="view")

    def has_view_permission(self, request, obj=None) -> bool:
        return permitted(actor=request.user, action="view", target=None if obj is None else obj.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may(request, "reset_mfa", obj)

    def has_add_permission(self, request) -> bool:
        return False  # users enrol themselves on the portal

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.authenticator_remove(authenticator=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for authenticator in queryset:
            services.authenticator_remove(authenticator=authenticator, actor=request.user)
