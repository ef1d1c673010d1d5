"""The "Recent events" section other apps' admin pages show: a mixin any ModelAdmin can put first.

It lives outside insights.admin so the directory, SSO and provisioning admins use it without importing
the event log's admin (and its registrations), and the log imports none of them back.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from core.tenancy import tenant_path_of

from .authentication import VIEW_PERMISSION
from .selectors import events_for_resource


class RecentEventsMixin:
    """ModelAdmin mixin: a read-only "Recent events" section on an object's change page.

    Put it before the admin base class (`class UserAdmin(RecentEventsMixin, TenantScopedAdmin)`).
    The resource type is the one `record()` writes: the model's `event_resource_type`, else its
    model name; set `recent_events_resource_type` to override it.
    """

    recent_events_limit = 20
    recent_events_resource_type: str | None = None

    def recent_events_resource_type_of(self, obj) -> str:
        """The resource_type events about this object carry."""
        return self.recent_events_resource_type or getattr(obj, "event_resource_type", obj._meta.model_name)

    def recent_events_organization_id(self, obj) -> int | None:
        """The organization of the object, following the model's tenant path when it is a relation."""
        path = tenant_path_of(type(obj)) or "organization"
        if path == "pk":
            return obj.pk
        target = obj
        for part in path.split("__")[:-1]:
            target = getattr(target, part, None)
        return getattr(target, f"{path.split('__')[-1]}_id", None) if target is not None else None

    @admin.display(description="Recent events")
    def recent_events(self, obj):
        """The latest events about this object, linking to each and to the full filtered list."""
        if obj is None or obj.pk is None:
            return "—"
        resource_type = self.recent_events_resource_type_of(obj)
        events = events_for_resource(
            organization_id=self.recent_events_organization_id(obj),
            resource_type=resource_type,
            resource_id=obj.pk,
            limit=self.recent_events_limit,
        )
        if not events:
            return "No events yet."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:insights_event_change", args=[event.pk]),
                    timezone.localtime(event.timestamp).strftime("%Y-%m-%d %H:%M:%S"),
                    event.event_type,
                    "ok" if event.success else "failed",
                    event.initiator_email or event.initiator_type,
                    event.message,
                )
                for event in events
            ),
        )
        more = (
            reverse("admin:insights_event_changelist")
            + "?"
            + urlencode({"resource_type": resource_type, "resource_id": obj.pk})
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Event</th><th>Outcome</th><th>By</th><th>Message</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">All events of this {}</a></p>',
            rows,
            more,
            resource_type,
        )

    def _shows_recent_events(self, request, obj) -> bool:
        return obj is not None and request.user.has_perm(VIEW_PERMISSION)

    def recent_events_fieldsets(self, request, obj) -> list:
        """The "Recent events" fieldset, for admins that build their fieldsets themselves."""
        return [("Recent events", {"fields": ("recent_events",)})] if self._shows_recent_events(request, obj) else []

    def recent_events_readonly(self, request, obj) -> list:
        """The read-only field the section needs, for admins that list their read-only fields themselves."""
        return ["recent_events"] if self._shows_recent_events(request, obj) else []

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + [f for f in self.recent_events_readonly(request, obj) if f not in readonly]

    def get_fields(self, request, obj=None):
        # the section has a fieldset of its own; keep it out of the default one
        return [f for f in super().get_fields(request, obj) if f != "recent_events"]

    def get_fieldsets(self, request, obj=None):
        return list(super().get_fieldsets(request, obj)) + self.recent_events_fieldsets(request, obj)
