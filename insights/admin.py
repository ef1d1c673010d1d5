"""Admin for the event log, API keys and retention, plus the "recent events" section other admins reuse.

The event list stays fast on a large table: filter choices are fixed lists (no DISTINCT over the
table), the date drill-down is computed from the calendar, and the paginator counts at most
COUNT_CAP rows instead of the whole log.
"""

import calendar
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cached_property

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

# Tenant scoping has one home (core.tenancy); the admin is the one place insights uses it.
from core.tenancy import TenantScopedAdmin, organization_of

from . import services
from .models import DEFAULT_RETENTION_DAYS, ApiKey, Event, RetentionPolicy, WebhookTarget
from .registry import event_types
from .webhooks import SIGNATURE_HEADER, webhook_active_set, webhook_create, webhook_url_check

COUNT_CAP = 1_000  # ten pages; deeper than that, narrow the filters or export
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: an exact COUNT(*) of a million-row log on every page view is the slow part."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:COUNT_CAP].count()


class EventTypeFilter(admin.SimpleListFilter):
    """Filter by event type from the types the apps declare (insights/registry.py), not a scan of the table."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(name, name) for name in event_types()]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class DateDrillDownFilter(admin.SimpleListFilter):
    """Recent periods, then year → month → day; the choices come from the calendar, not the database."""

    title = "date"
    parameter_name = "when"
    RECENT = {"24h": ("Last 24 hours", timedelta(hours=24)), "7d": ("Last 7 days", timedelta(days=7))}

    def lookups(self, request, model_admin):
        today = timezone.now().astimezone(UTC).date()
        value = self.value() or ""
        choices = [(key, label) for key, (label, _) in self.RECENT.items()]
        parts = value.split("-") if value and value not in self.RECENT else []
        if not parts or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):  # "²".isdigit() too
            return choices + [(str(year), str(year)) for year in range(today.year, today.year - 3, -1)]
        year = int(parts[0])
        choices.append((str(year), str(year)))
        if len(parts) == 1:
            last_month = today.month if year == today.year else 12
            return choices + [(f"{year}-{m:02d}", f"{calendar.month_name[m]} {year}") for m in range(last_month, 0, -1)]
        month = int(parts[1])
        if not 1 <= month <= 12 or not 1 <= year <= 9998:
            return choices
        choices.append((f"{year}-{month:02d}", f"{calendar.month_name[month]} {year}"))
        days = calendar.monthrange(year, month)[1]
        return choices + [
            (f"{year}-{month:02d}-{d:02d}", f"{d} {calendar.month_abbr[month]}") for d in range(days, 0, -1)
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value in self.RECENT:
            return queryset.filter(timestamp__gte=timezone.now() - self.RECENT[value][1])
        try:
            parts = [int(p) for p in value.split("-")]
            if len(parts) == 1:
                start, end = datetime(parts[0], 1, 1, tzinfo=UTC), datetime(parts[0] + 1, 1, 1, tzinfo=UTC)
            elif len(parts) == 2:
                start = datetime(parts[0], parts[1], 1, tzinfo=UTC)
                end = (start + timedelta(days=32)).replace(day=1)
            else:
                start = datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
                end = start + timedelta(days=1)
        except (ValueError, OverflowError):
            return queryset.none()
        return queryset.filter(timestamp__gte=start, timestamp__lt=end)


def _changes_table(changes) -> str:
    if not changes:
        return "—"
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                c.get("field", ""),
                json.dumps(c.get("from"), ensure_ascii=False),
                json.dumps(c.get("to"), ensure_ascii=False),
            )
            for c in changes
            if isinstance(c, dict)
        ),
    )
    return format_html("<table><thead><tr><th>Field</th><th>From</th><th>To</th></tr></thead>{}</table>", rows)


@admin.register(Event)
class EventAdmin(TenantScopedAdmin):
    """The audit log: filter, drill into dates, open one event; nobody adds, changes or deletes events by hand."""

    change_list_template = "admin/insights/event/change_list.html"
    list_display = ("timestamp", "event_type", "service", "success", "initiator_email", "resource_name", "message")
    list_filter = (DateDrillDownFilter, "service", "success", EventTypeFilter, "organization")
    search_fields = ("initiator_email", "resource_name", "message")
    list_per_page = 100
    show_full_result_count = False  # counting a large log on every page is slow
    paginator = CappedCountPaginator
    list_select_related = False
    fieldsets = (
        (None, {"fields": ("timestamp", "event_type", "service", "success", "message", "organization")}),
        ("Initiated by", {"fields": ("initiator_type", "initiator_id", "initiator_email")}),
        ("Resource", {"fields": ("resource_type", "resource_id", "resource_name")}),
        ("Request", {"fields": ("client_ip", "user_agent", "correlation")}),
        ("Changes", {"fields": ("changes_display",)}),
    )

    def get_search_results(self, request, queryset, search_term):
        """An email address is looked up exactly in the indexed initiator and resource names; other text is scanned."""
        term = search_term.strip()
        if EMAIL_LIKE.fullmatch(term):
            return queryset.filter(Q(initiator_email=term.lower()) | Q(resource_name=term)), False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["correlation", "changes_display"]

    @admin.display(description="Correlation id")
    def correlation(self, obj):
        if not obj.correlation_id:
            return "—"
        url = reverse("admin:insights_event_changelist") + "?" + urlencode({"correlation_id": obj.correlation_id})
        return format_html('{} <a href="{}">(everything this request or job did)</a>', obj.correlation_id, url)

    @admin.display(description="Changes")
    def changes_display(self, obj):
        return _changes_table(obj.changes)

    def changelist_view(self, request, extra_context=None):
        organization = organization_of(request)
        policy = None
        if organization is not None:
            policy = RetentionPolicy.objects.filter(organization=organization).first()
        extra_context = {
            **(extra_context or {}),
            "retention": policy,
            "retention_days": policy.retention_days if policy else DEFAULT_RETENTION_DAYS,
            "count_cap": COUNT_CAP,
        }
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def shown_once(model_admin, request, obj, *, secret: str, intro: str, usage: str) -> TemplateResponse:
    """The page that shows a new secret once, right after it was created; never cached."""
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Copy it now",
        "object": obj,
        "secret": secret,
        "intro": intro,
        "usage": usage,
        "opts": opts,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    response = TemplateResponse(request, "admin/insights/shown_once.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """API keys for the query API: created here and shown once, revoked with an action."""

    list_display = ("name", "prefix", "status", "created_at", "created_by_email", "last_used_at")
    list_filter = ("organization",)
    search_fields = ("name", "prefix")
    actions = ["revoke_keys"]
    readonly_fields = ("prefix", "status", "created_at", "created_by_email", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        fields = ["organization", "name"] if obj is None else ["organization", "name", *self.readonly_fields]
        return fields if request.user.is_superuser else [f for f in fields if f != "organization"]

    @admin.display(description="Status")
    def status(self, obj):
        return "active" if obj.is_active else f"revoked {timezone.localtime(obj.revoked_at):%Y-%m-%d %H:%M}"

    def get_readonly_fields(self, request, obj=None):
        # a key stays in the organization it was made for; only its name changes
        return self.readonly_fields if obj is None else ("organization", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            services.api_key_rename(api_key=obj, name=form.cleaned_data["name"], actor=request.user)
            return
        organization = organization_of(request) or obj.organization
        api_key, raw_key = services.api_key_create(organization=organization, name=obj.name, actor=request.user)
        obj.__dict__.update({k: v for k, v in api_key.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._raw_key = raw_key  # shown once by response_add, never stored

    def response_add(self, request, obj, post_url_continue=None):
        return shown_once(
            self,
            request,
            obj,
            secret=obj._raw_key,
            intro=f"The API key “{obj.name}” was created. It is stored only as a hash.",
            usage="Send it as “Authorization: Bearer <key>” to /api/insights/events. "
            "If it is lost or leaks, revoke it and create a new one.",
        )

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = sum(services.api_key_revoke(api_key=key, actor=request.user) for key in queryset)
        self.message_user(request, f"{revoked} API key(s) revoked. Requests using them are now refused.")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(TenantScopedAdmin):
    """How long the organization keeps events, and what the last pruning run removed."""

    list_display = ("__str__", "retention_days", "last_run_at", "last_removed")
    list_filter = ("organization",)
    list_select_related = ("organization",)
    search_fields = ("organization__slug",)
    fields = ("organization", "retention_days", "last_run_at", "last_removed")
    readonly_fields = ("last_run_at", "last_removed")

    def has_add_permission(self, request):
        if not super().has_add_permission(request):
            return False
        organization = organization_of(request)
        return organization is None or not RetentionPolicy.objects.filter(organization=organization).exists()

    def save_model(self, request, obj, form, change):
        organization = organization_of(request) or obj.organization
        try:
            policy = services.retention_days_set(
                organization_id=organization.pk, retention_days=obj.retention_days, actor=request.user
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.__dict__.update({k: v for k, v in policy.__dict__.items() if k != "_state"})
        obj._state.adding = False


@admin.register(WebhookTarget)
class WebhookTargetAdmin(TenantScopedAdmin):
    """SIEM webhooks: new events are POSTed to the URL as signed JSON Lines batches, every minute."""

    list_display = ("url", "active", "last_delivery_at", "last_delivered_id", "consecutive_failures", "last_error")
    list_filter = ("active", "organization")
    search_fields = ("url",)
    readonly_fields = ("created_at", "last_delivered_id", "last_delivery_at", "last_error", "consecutive_failures")

    def get_fields(self, request, obj=None):
        fields = ["organization", "url"] if obj is None else ["organization", "url", "active", *self.readonly_fields]
        return fields if request.user.is_superuser else [f for f in fields if f != "organization"]

    def get_readonly_fields(self, request, obj=None):
        # the URL and organization are fixed once created: the signing key is tied to the target, so a new
        # URL is a new target; switching it on or off is the one change (webhook_active_set)
        return self.readonly_fields if obj is None else ("organization", "url", *self.readonly_fields)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"  # "siem.example.com/x" means https, never plain http
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            base_clean = form.clean

            def clean(form_self):
                cleaned = base_clean(form_self)
                if cleaned.get("url"):
                    try:
                        webhook_url_check(cleaned["url"])
                    except ValidationError as exc:
                        form_self.add_error("url", exc.message_dict["url"])
                return cleaned

            form = type(form.__name__, (form,), {"clean": clean})
        return form

    def save_model(self, request, obj, form, change):
        if change:
            if "active" in form.changed_data:
                webhook_active_set(target=obj, active=form.cleaned_data["active"], actor=request.user)
            return
        organization = organization_of(request) or obj.organization
        target, key = webhook_create(organization=organization, url=obj.url, actor=request.user)
        obj.__dict__.update({k: v for k, v in target.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._signing_key = key

    def response_add(self, request, obj, post_url_continue=None):
        return shown_once(
            self,
            request,
            obj,
            secret=obj._signing_key,
            intro=f"Events recorded from now on will be sent to {obj.url}. This is the signing key.",
            usage=f"Each POST carries “{SIGNATURE_HEADER}: sha256=<HMAC-SHA256 of the body with this key, hex>”; "
            "check it before trusting a batch.",
        )
