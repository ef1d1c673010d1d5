"""The admin for applications: add from the catalog, configure SSO, authorize groups, keys, metadata, delete."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.tenancy import TenantScopedAdmin
from insights.recent_events import RecentEventsMixin

from . import selectors, services
from .catalog import catalog, catalog_entry, catalog_search
from .forms import (
    SSO_FIELDS,
    ApplicationForm,
    CatalogSearchForm,
    DeleteCountForm,
    KeyPairUploadForm,
    SpMetadataUploadForm,
)
from .models import Application, KeyState, SigningKey, slug_available

GENERAL = (
    "catalog_key",
    "organization",
    "label",
    "description",
    "portal_image_upload",
    "portal_image_remove",
    "show_in_portal",
    "sso_active",
)
SLUG_HELP = (
    "The last part of this app's IdP URL (/saml2/<slug>). It is unique across Lanyard and cannot be changed "
    "after the application is created: check it before saving."
)


@admin.register(Application)
class ApplicationAdmin(RecentEventsMixin, TenantScopedAdmin):
    """Applications of the admin's organization."""

    form = ApplicationForm
    list_display = ("label", "catalog_name", "idp_slug", "sso_active", "show_in_portal")
    list_filter = ("sso_active", "show_in_portal", "catalog_key")
    search_fields = ("label", "idp_slug", "sp_entity_id")
    filter_horizontal = ("authorized_groups",)
    actions = ["deactivate_sso", "delete_applications"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_form_template = "admin/ssoapps/application/change_form.html"
    delete_confirmation_template = "admin/ssoapps/application/delete_confirmation.html"

    # --- the form --------------------------------------------------------------------------------

    @admin.display(description="catalog entry")
    def catalog_name(self, obj: Application) -> str:
        """The catalog entry's name."""
        return catalog().get(obj.catalog_key).name if obj.catalog_key in catalog() else obj.catalog_key

    @admin.display(description="portal image")
    def portal_image_preview(self, obj: Application) -> str:
        """The current tile image."""
        if not obj or not obj.portal_image:
            return "—"
        return format_html('<img src="{}" alt="" class="portal-image-preview">', obj.portal_image)

    @admin.display(description="IdP details")
    def idp_details(self, obj: Application) -> str:
        """IdP URL, metadata URL and the signing certificate, for the app's SSO settings."""
        key = selectors.application_active_key(application=obj)
        return format_html(
            "IdP URL: <code>{}</code><br>IdP entity ID: <code>{}</code><br>Metadata URL: <code>{}</code><br>"
            "Signing certificate: {}",
            obj.sso_url,
            obj.issuer,
            obj.metadata_url,
            key.fingerprint if key else "none yet",
        )

    def _kind(self, request, obj) -> str:
        if obj is not None:
            return obj.catalog_entry.kind
        key = request.GET.get("catalog") or request.POST.get("catalog_key", "")
        return catalog()[key].kind if key in catalog() else "saml"

    def get_fieldsets(self, request, obj=None):
        general = list(GENERAL)
        if obj is not None:
            general.insert(general.index("portal_image_upload"), "portal_image_preview")
        fieldsets = [(None, {"fields": general})]
        if self._kind(request, obj) == "bookmark":
            fieldsets.append(("Bookmark", {"fields": ["bookmark_url"]}))
        else:
            fieldsets.append(("Single sign-on (SAML)", {"fields": list(SSO_FIELDS)}))
        fieldsets.append(("Access", {"fields": ["authorized_groups"]}))
        if obj is not None:
            fieldsets.append(("Lanyard as the IdP", {"fields": ["idp_details"]}))
        fieldsets.append(
            (
                "Advanced settings",
                {
                    "fields": ["idp_slug"],
                    "classes": [] if obj else ["collapse"],
                    "description": SLUG_HELP if obj is None else "",
                },
            )
        )
        fieldsets += self.recent_events_fieldsets(request, obj)
        if not request.user.is_superuser:  # the tenant is set from the signed-in admin, never chosen
            fieldsets = [(n, {**o, "fields": [f for f in o["fields"] if f != "organization"]}) for n, o in fieldsets]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "idp_slug",
            "catalog_key",
            "portal_image_preview",
            "idp_details",
            *self.recent_events_readonly(request, obj),
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and "idp_slug" in form.base_fields:
            form.base_fields["idp_slug"].help_text = SLUG_HELP
        return form

    def get_changeform_initial_data(self, request):
        key = request.GET.get("catalog", "")
        if key not in catalog():
            return super().get_changeform_initial_data(request)
        initial = services.application_defaults_from_catalog(catalog_key=key)
        initial["idp_slug"] = slug_available(initial["label"])
        return initial

    # --- add from the catalog ----------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        key = request.GET.get("catalog") or request.POST.get("catalog_key")
        if key in catalog():
            entry = catalog_entry(key)
            extra_context = {**(extra_context or {}), "title": f"Add {entry.name}", "catalog_entry": entry}
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        search = CatalogSearchForm(request.GET or None)
        term = search.cleaned_data["q"] if search.is_valid() else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Add an application from the catalog",
            "search": search,
            "entries": catalog_search(term),
            "term": term,
        }
        return TemplateResponse(request, "admin/ssoapps/application/catalog.html", context)

    # --- saving goes through the services ----------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.organization_id = request.user.organization_id
        if not change:
            services.application_add(application=obj, actor=request.user)
            return
        skip = {"authorized_groups", "portal_image_upload", "portal_image_remove"}
        changes = [
            {"field": name, "from": form.initial.get(name), "to": form.cleaned_data.get(name)}
            for name in form.changed_data
            if name not in skip
        ]
        if {"portal_image_upload", "portal_image_remove"} & set(form.changed_data):
            changes.append({"field": "portal_image", "from": None, "to": "changed"})
        services.application_update(application=obj, changes=changes, actor=request.user)

    def save_related(self, request, form, formsets, change):
        wanted = form.cleaned_data.pop("authorized_groups", None)  # bound through the services, not save_m2m
        super().save_related(request, form, formsets, change)
        if wanted is None:
            return
        application = form.instance
        current = set(application.authorized_groups.all())
        services.application_groups_bind(application=application, groups=set(wanted) - current, actor=request.user)
        services.application_groups_unbind(application=application, groups=current - set(wanted), actor=request.user)

    def delete_model(self, request, obj):
        services.application_delete(application=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for application in queryset:
            services.application_delete(application=application, actor=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            form = DeleteCountForm(request.POST, expected=1)
            if not form.is_valid():
                self.message_user(request, form.errors["count"][0], messages.ERROR)
                return HttpResponseRedirect(request.path)
        extra_context = {**(extra_context or {}), "count_form": DeleteCountForm(expected=1)}
        return super().delete_view(request, object_id, extra_context)

    # --- actions ---------------------------------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_applications, which asks for the count
        if not self.has_delete_permission(request):
            actions.pop("delete_applications", None)
        if not self.has_change_permission(request):
            actions.pop("deactivate_sso", None)
        return actions

    @admin.action(description="Deactivate SSO of the selected applications")
    def deactivate_sso(self, request, queryset):
        """Switch SSO (or the bookmark tile) off."""
        for application in queryset:
            services.application_deactivate(application=application, actor=request.user)
        self.message_user(request, f"SSO deactivated for {queryset.count()} application(s).", messages.SUCCESS)

    @admin.action(description="Delete the selected applications")
    def delete_applications(self, request, queryset):
        """Delete after the admin has typed how many applications are being deleted."""
        count = queryset.count()
        form = DeleteCountForm(request.POST if "confirm" in request.POST else None, expected=count)
        if form.is_valid():
            self.delete_queryset(request, queryset)
            self.message_user(request, f"{count} application(s) deleted.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Delete applications",
            "applications": queryset,
            "count": count,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/ssoapps/application/delete_count.html", context)

    # --- certificate, metadata, keys ----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/certificate.pem", view(self.certificate_view), name="ssoapps_application_certificate"),
            path("<int:pk>/metadata.xml", view(self.metadata_view), name="ssoapps_application_metadata"),
            path("<int:pk>/sp-metadata/", view(self.sp_metadata_view), name="ssoapps_application_sp_metadata"),
            path("<int:pk>/keys/", view(self.keys_view), name="ssoapps_application_keys"),
            *super().get_urls(),
        ]

    def _application(self, request, pk: int, *, change: bool = False) -> Application:
        application = self.get_object(request, str(pk))
        if application is None:
            raise Http404("No such application.")
        allowed = (
            self.has_change_permission(request, application)
            if change
            else self.has_view_or_change_permission(request, application)
        )
        if not allowed:
            raise PermissionDenied
        return application

    def certificate_view(self, request, pk: int) -> HttpResponse:
        """Download the active signing certificate as certificate.pem."""
        application = self._application(request, pk)
        key = selectors.application_active_key(application=application)
        if key is None:
            self.message_user(request, "This application has no signing key (bookmarks have none).", messages.ERROR)
            return redirect(reverse("admin:ssoapps_application_change", args=[pk]))
        response = HttpResponse(key.certificate, content_type="application/x-pem-file")
        response["Content-Disposition"] = 'attachment; filename="certificate.pem"'
        return response

    def metadata_view(self, request, pk: int) -> HttpResponse:
        """Export the IdP metadata as <slug>-metadata.xml."""
        application = self._application(request, pk)
        document = selectors.application_idp_metadata(application=application)
        response = HttpResponse(document, content_type="application/samlmetadata+xml")
        response["Content-Disposition"] = f'attachment; filename="{application.idp_slug}-metadata.xml"'
        return response

    def sp_metadata_view(self, request, pk: int) -> HttpResponse:
        """Upload the app's SP metadata to fill SP entity ID, ACS URLs, SP certificate and NameID format."""
        application = self._application(request, pk, change=True)
        form = SpMetadataUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                changes = services.application_sp_metadata_apply(
                    application=application, document=form.cleaned_data["metadata"], actor=request.user
                )
            except ValidationError as exc:
                form.add_error("metadata", exc.messages[0] if exc.messages else "This SP metadata cannot be used.")
            else:
                names = ", ".join(c["field"] for c in changes) or "nothing (it matched already)"
                self.message_user(request, f"Filled from the SP metadata: {names}.", messages.SUCCESS)
                return redirect(reverse("admin:ssoapps_application_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"Upload SP metadata for {application.label}",
            "form": form,
        }
        return TemplateResponse(request, "admin/ssoapps/application/sp_metadata.html", context)

    def keys_view(self, request, pk: int) -> HttpResponse:
        """Signing keys: stage a generated or uploaded key, promote a staged one."""
        application = self._application(request, pk, change=request.method == "POST")
        upload = KeyPairUploadForm(request.POST if request.POST.get("do") == "upload" else None)
        if request.method == "POST":
            do = request.POST.get("do")
            try:
                if do == "stage":
                    key = services.signing_key_create(application=application, actor=request.user)
                    self.message_user(
                        request, f"Key {key.fingerprint} staged; metadata now lists it.", messages.SUCCESS
                    )
                    return redirect(request.path)
                if do == "upload" and upload.is_valid():
                    key = services.signing_key_create(
                        application=application,
                        private_key=upload.cleaned_data["private_key"],
                        certificate=upload.cleaned_data["certificate"],
                        actor=request.user,
                    )
                    self.message_user(request, f"Your key {key.fingerprint} is staged.", messages.SUCCESS)
                    return redirect(request.path)
                if do == "promote":
                    key = application.signing_keys.filter(pk=request.POST.get("key")).first()
                    if key is None:
                        raise ValidationError("That key does not belong to this application.")
                    services.signing_key_promote(key=key, actor=request.user)
                    self.message_user(request, f"Key {key.fingerprint} now signs.", messages.SUCCESS)
                    return redirect(request.path)
            except ValidationError as exc:
                message = exc.messages[0] if exc.messages else "The key could not be used."
                if do == "upload":
                    upload.add_error(None, message)
                else:
                    self.message_user(request, message, messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": application,
            "title": f"Signing keys of {application.label}",
            "keys": application.signing_keys.defer("private_key"),
            "upload": upload,
            "states": KeyState,
        }
        return TemplateResponse(request, "admin/ssoapps/application/keys.html", context)


# SigningKey rows are managed from their application's "Signing keys" page, not as a model admin.
__all__ = ["ApplicationAdmin", "SigningKey"]
