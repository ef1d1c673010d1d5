"""Read-only admin list of events, scoped to the admin's organization."""

from django.contrib import admin

# Tenant scoping has one home (directory.tenancy); the admin is the one place insights uses it.
from directory.tenancy import TenantScopedAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(TenantScopedAdmin):
    """The audit log: nobody adds, changes or deletes events by hand."""

    list_display = ("timestamp", "event_type", "service", "success", "initiator_email", "resource_name", "message")
    list_filter = ("service", "success", "event_type", "timestamp", "organization")
    search_fields = ("event_type", "initiator_email", "resource_name", "message")
    date_hierarchy = "timestamp"
    list_per_page = 100
    show_full_result_count = False  # counting a large log on every page is slow

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
