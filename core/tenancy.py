"""Tenant scoping for the admin: the one place that keeps each organization's rows to itself.

Every tenant-facing ModelAdmin inherits `TenantScopedAdmin`. For a tenant admin it
- lists, opens, changes and deletes only rows of their own organization (`get_queryset`),
- offers only their organization's rows in foreign-key and many-to-many choices, and in
  autocomplete (Django's autocomplete view asks the target model's admin for its queryset),
- never shows `organization` as a choice and sets it from the signed-in admin on save.
Superusers (platform operators) see everything and choose the organization.

It lives in core, which imports no Lanyard app, so every app's admin (the event log's too) can use it
without an import loop: a model says how to reach its organization with a `tenant_path` attribute
("pk" on Organization itself), else its `organization` field is used.
"""

from django.contrib import admin
from django.db.models import Model, QuerySet


def tenant_path_of(model: type[Model]) -> str | None:
    """The lookup path from a model to its organization, or None for models outside any tenant."""
    path = getattr(model, "tenant_path", None)
    if path is not None:
        return path
    field_names = {f.name for f in model._meta.get_fields()}
    return "organization" if "organization" in field_names else None


def organization_of(request) -> Model | None:
    """The organization whose admin this request is working in (None for operators)."""
    user = request.user
    return None if user.is_superuser else user.organization


def scope(queryset: QuerySet, request) -> QuerySet:
    """Narrow a queryset to the request's organization; operators see everything."""
    if request.user.is_superuser:
        return queryset
    path = tenant_path_of(queryset.model)
    if path is None:
        return queryset.none()
    organization_id = request.user.organization_id
    if organization_id is None:
        return queryset.none()
    lookup = "pk" if path == "pk" else f"{path}__pk"
    return queryset.filter(**{lookup: organization_id})


class TenantScopedAdmin(admin.ModelAdmin):
    """Base ModelAdmin for every tenant-owned model."""

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(pk=request.user.organization_id)
        elif "queryset" not in kwargs:
            kwargs["queryset"] = scope(db_field.remote_field.model._default_manager.all(), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = scope(db_field.remote_field.model._default_manager.all(), request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and "organization" in {f.name for f in self.model._meta.fields}:
            exclude.append("organization")
        return exclude

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [f for f in fields if f != "organization"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "organization"]})
            for name, options in fieldsets
        ]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [f for f in filters if f != "organization"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        organization = organization_of(request)
        if organization is not None and obj is None:
            # model.clean() runs during form validation and needs to know the tenant
            base_init = form.__init__

            def __init__(form_self, *args, **kw):
                base_init(form_self, *args, **kw)
                if hasattr(form_self.instance, "organization_id") and form_self.instance.organization_id is None:
                    form_self.instance.organization = organization

            form = type(form.__name__, (form,), {"__init__": __init__})
        return form

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and hasattr(obj, "organization_id"):
            obj.organization_id = request.user.organization_id
        super().save_model(request, obj, form, change)
