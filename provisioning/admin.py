"""Admin for SCIM provisioning: configure, activate, re-authenticate and watch integrations; import users."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.tenancy import TenantScopedAdmin, scope
from directory.errors import error_sentence
from insights.recent_events import RecentEventsMixin

from . import importing, marking, services
from .models import Integration, IntegrationStatus, ProvisionedAccount


class IntegrationForm(forms.ModelForm):
    """The SCIM URL and token; the token is write-only."""

    token = forms.CharField(
        label="API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown again. On an existing integration, fill it in to "
        "re-authenticate with a new token; changing the SCIM base URL needs it entered again too.",
    )

    base_url = forms.URLField(
        label="SCIM base URL",
        max_length=500,
        assume_scheme="https",
        help_text="The app's SCIM 2.0 endpoint, e.g. https://api.clickup.com/v2/scim/team/1234",
    )

    class Meta:
        model = Integration
        fields = ["application", "base_url", "token", "rate_limit"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.capabilities = None
        if self.instance.pk and "application" in self.fields:  # a view-only form has no fields at all
            self.fields["application"].disabled = True

    def clean_token(self) -> str:
        token = self.cleaned_data.get("token", "")
        if not self.instance.pk and not token:
            raise ValidationError("Paste the app's API token (from the app's SCIM or API settings).")
        return token

    def clean(self):
        cleaned = super().clean()
        application = cleaned.get("application") or getattr(self.instance, "application", None)
        if application is not None and not application.catalog_entry.supports_scim:
            raise ValidationError(f"“{application}” does not support SCIM provisioning; choose another app.")
        if self.instance.pk and cleaned.get("base_url") and not self.errors:
            self.capabilities = services.integration_check_change(
                integration=Integration.objects.get(pk=self.instance.pk),
                base_url=cleaned["base_url"],
                token=cleaned.get("token", ""),
                actor=self.actor,
            )
        return cleaned

    def _post_clean(self):
        token = self.cleaned_data.get("token")
        super()._post_clean()
        if self.instance.pk and not token:  # keep the stored token
            self.instance.token = Integration.objects.get(pk=self.instance.pk).token


@admin.register(Integration)
class IntegrationAdmin(RecentEventsMixin, TenantScopedAdmin):
    """Integrations: configure, Activate (verified against the app), update, re-authenticate, deactivate."""

    tenant_path = "application__organization"
    form = IntegrationForm
    list_display = ("application", "base_url", "status_badge", "consecutive_failures", "last_error_at", "accounts_link")
    list_filter = ("status",)
    search_fields = ("application__label", "base_url")
    actions = ["activate", "deactivate", "lift_quarantine", "full_sync"]
    readonly_fields = (
        "status",
        "capabilities",
        "consecutive_failures",
        "total_failures",
        "last_error",
        "last_error_at",
        "activated_at",
        "quarantined_at",
        "last_full_sync_at",
        "accounts_link",
        "import_link",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        actor = request.user

        class ActorForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return ActorForm

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Integration) -> str:
        if obj.status == IntegrationStatus.QUARANTINED:
            return format_html("<strong>Quarantined</strong> — {}", obj.last_error or "too many failures")
        return obj.get_status_display()

    @admin.display(description="accounts")
    def accounts_link(self, obj: Integration) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:provisioning_provisionedaccount_changelist") + f"?integration__id__exact={obj.pk}"
        pending = obj.accounts.filter(dirty=True).count()
        return format_html('<a href="{}">{} account(s), {} pending</a>', url, obj.accounts.count(), pending)

    @admin.display(description="import users")
    def import_link(self, obj: Integration) -> str:
        if not obj.pk or obj.status == IntegrationStatus.INACTIVE:
            return "Activate the integration to import the app's users."
        url = reverse("admin:provisioning_integration_import", args=[obj.pk])
        return format_html('<a href="{}">List the app’s users and import them</a>', url)

    def save_model(self, request, obj, form, change):
        if not change:
            saved = services.integration_configure(
                application=obj.application,
                base_url=obj.base_url,
                token=form.cleaned_data["token"],
                rate_limit=obj.rate_limit,
                actor=request.user,
            )
            obj.pk = saved.pk
            return
        current = Integration.objects.get(pk=obj.pk)
        with transaction.atomic():
            if obj.rate_limit != current.rate_limit:
                Integration.objects.filter(pk=obj.pk).update(rate_limit=obj.rate_limit)
                current.rate_limit = obj.rate_limit
            token = form.cleaned_data.get("token")
            if obj.base_url != current.base_url:  # the form made sure the token was entered with it
                current = services.integration_update_url(
                    integration=current, base_url=obj.base_url, token=token, actor=request.user, verified=True
                )
            elif token and token != current.token:
                services.integration_reauthenticate(integration=current, token=token, actor=request.user, verified=True)
            if form.capabilities:
                Integration.objects.filter(pk=obj.pk).update(capabilities=form.capabilities)

    def delete_model(self, request, obj):
        services.integration_delete(integration=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            services.integration_delete(integration=integration, actor=request.user)

    # --- actions -------------------------------------------------------------------------------
    @admin.action(description="Activate (check URL and token with the app, then sync everyone)")
    def activate(self, request, queryset):
        for integration in queryset:
            try:
                services.integration_activate(integration=integration, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{integration.application}: {error_sentence(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{integration.application}: provisioning is active; everyone is being synced."
                )

    @admin.action(description="Deactivate (stop provisioning; app accounts stay as they are)")
    def deactivate(self, request, queryset):
        for integration in queryset:
            services.integration_deactivate(integration=integration, actor=request.user)
        self.message_user(request, f"{queryset.count()} integration(s) deactivated.")

    @admin.action(description="Lift quarantine")
    def lift_quarantine(self, request, queryset):
        lifted = 0
        for integration in queryset.filter(status=IntegrationStatus.QUARANTINED):
            services.integration_quarantine_lift(integration=integration, actor=request.user)
            lifted += 1
        self.message_user(request, f"{lifted} integration(s) released from quarantine; pending changes are being sent.")

    @admin.action(description="Full sync (compare every account with the app and repair drift)")
    def full_sync(self, request, queryset):
        for integration in queryset:
            if not integration.is_running:
                self.message_user(request, f"{integration.application}: activate it first.", messages.WARNING)
                continue
            count = marking.integration_full_sync(integration=integration, actor=request.user)
            self.message_user(request, f"{integration.application}: full sync of {count} account(s) queued.")

    # --- import view -----------------------------------------------------------------------------
    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/import/",
                self.admin_site.admin_view(self.import_view),
                name="provisioning_integration_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request, object_id):
        """The app's users beside the directory, New or Imported; import the selected ones."""
        integration = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, integration):
            raise PermissionDenied
        if request.method == "POST":
            remote_ids = request.POST.getlist("remote_id")
            if not remote_ids:
                self.message_user(request, "Select the users to import first.", messages.WARNING)
                return HttpResponseRedirect(request.path)
            try:
                counts = importing.users_import_start(
                    integration=integration, remote_ids=remote_ids, actor=request.user
                )
            except ValidationError as exc:
                self.message_user(request, error_sentence(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            if counts is None:
                self.message_user(
                    request,
                    f"Importing {len(remote_ids)} users in the background; you will get an email when it is done.",
                )
            else:
                level = messages.WARNING if counts["failed"] else messages.SUCCESS
                self.message_user(
                    request,
                    f"{counts['imported']} imported, {counts['skipped']} already in the directory, "
                    f"{counts['failed']} failed (the event log says why).",
                    level,
                )
            return HttpResponseRedirect(request.path)
        only_new = request.GET.get("new") == "1"
        error = None
        try:
            rows = importing.import_candidates(integration=integration, only_new=only_new)
        except ValidationError as exc:
            rows, error = [], error_sentence(exc)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import users from {integration.application}",
            "opts": self.model._meta,
            "integration": integration,
            "rows": rows,
            "only_new": only_new,
            "error": error,
        }
        return TemplateResponse(request, "admin/provisioning/integration/import.html", context)


class IntegrationFilter(admin.SimpleListFilter):
    """Filter accounts by integration, offering only the admin's own organization's."""

    title = "integration"
    parameter_name = "integration__id__exact"

    def lookups(self, request, model_admin):
        return [(i.pk, str(i)) for i in scope(Integration.objects.select_related("application"), request)]

    def queryset(self, request, queryset):
        return queryset.filter(integration_id=self.value()) if self.value() else queryset


@admin.register(ProvisionedAccount)
class ProvisionedAccountAdmin(TenantScopedAdmin):
    """Per-integration accounts: state in the app, last error, last sync (read only)."""

    tenant_path = "integration__application__organization"
    list_display = (
        "account_email",
        "integration",
        "sent_state",
        "desired_state",
        "dirty",
        "last_error",
        "last_synced_at",
    )
    list_filter = ("dirty", "sent_state", IntegrationFilter)
    search_fields = ("user__email", "remote_id")
    list_select_related = ("integration__application", "user")

    @admin.display(description="user", ordering="user__email")
    def account_email(self, obj: ProvisionedAccount) -> str:
        return obj.email or (obj.user.email if obj.user else "")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff
