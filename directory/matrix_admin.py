"""The permission matrix in the admin: a refused attempt gets a sentence and a failed event, never a bare 403.

Django answers a POST that its permission checks refuse with a 403 page and records nothing; the
admins of users and of their second factors use this mixin instead, so the person sees why and
the audit log shows the attempt. Bulk actions skip (or refuse whole) the users the actor may not touch.
"""

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy

from .errors import error_sentence
from .permissions import Refused, permission_check, permitted

SHOWN_REFUSALS = 5  # a bulk action names this many refusals; the event log has every one


class MatrixAdminMixin:
    """Mixin for a ModelAdmin whose rows are users (or belong to one) that the matrix guards."""

    matrix_delete_action = "delete"  # the matrix action deleting a row amounts to
    matrix_field_actions: dict[str, str] = {}  # form field -> the matrix action changing it asks for
    matrix_write_only: tuple[str, ...] = ()  # fields never shown back: removed, not made read-only, when refused

    def _may(self, request, action: str, obj=None) -> bool:
        return permitted(actor=request.user, action=action, target=None if obj is None else self.matrix_target(obj))

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        actions = set(self.matrix_field_actions.values())
        return obj is None or not actions or any(self._may(request, action, obj) for action in actions)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request, self.matrix_delete_action, obj)

    def _refused_fields(self, request, obj) -> list[str]:
        return [field for field, action in self.matrix_field_actions.items() if not self._may(request, action, obj)]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        refused = self._refused_fields(request, obj)
        return readonly + [f for f in refused if f not in self.matrix_write_only and f not in readonly]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set(self._refused_fields(request, obj)) & set(self.matrix_write_only)
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]}) for name, opts in fieldsets]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        hidden = set(self._refused_fields(request, obj)) & set(self.matrix_write_only)
        # A declared form field stays in the form (and is saved from a crafted POST) unless removed by name.
        return type(form.__name__, (form,), dict.fromkeys(hidden)) if hidden else form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if request.method == "POST" else None
        if obj is not None and self.has_view_permission(request, obj) and self._refused_post(request, obj):
            return HttpResponseRedirect(request.get_full_path())
        return super().change_view(request, object_id, form_url, extra_context)

    def _refused_post(self, request, obj) -> bool:
        """Whether a POST tries a change the matrix refuses for this row (then said, and recorded)."""
        posted = {name for name, value in request.POST.items() if name not in self.matrix_write_only or value}
        attempted = sorted({action for field, action in self.matrix_field_actions.items() if field in posted})
        return any(self.matrix_refused(request, action, obj) for action in attempted)

    def matrix_target(self, obj):
        """The user the matrix judges for a row."""
        return obj

    def matrix_refused(self, request, action: str, obj, *, event_type: str = "") -> bool:
        """Whether the matrix refuses this; if so the admin is told why and the attempt is recorded."""
        try:
            permission_check(actor=request.user, action=action, target=self.matrix_target(obj), event_type=event_type)
        except Refused as exc:
            self.message_user(request, error_sentence(exc), messages.ERROR)
            return True
        return False

    def matrix_partition(self, request, objs, action: str, *, event_type: str = "") -> list:
        """The rows the actor may do `action` to; each refused one is recorded and named in one message."""
        allowed, refusals = [], []
        for obj in objs:
            try:
                permission_check(
                    actor=request.user, action=action, target=self.matrix_target(obj), event_type=event_type
                )
            except Refused as exc:
                refusals.append(error_sentence(exc))
            else:
                allowed.append(obj)
        if refusals:
            more = len(refusals) - SHOWN_REFUSALS
            tail = f" …and {more} more (the event log lists each)." if more > 0 else ""
            self.message_user(
                request,
                f"{len(refusals)} left unchanged. " + " ".join(refusals[:SHOWN_REFUSALS]) + tail,
                messages.ERROR,
            )
        return allowed

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if request.method == "POST" else None
        if obj is not None and self._delete_refused(request, obj):
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        return super().delete_view(request, object_id, extra_context)

    def _delete_refused(self, request, obj) -> bool:
        if not self.has_view_permission(request, obj) or self.has_delete_permission(request, obj):
            return False
        return self.matrix_refused(request, self.matrix_delete_action, obj)

    @admin.action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request, queryset):
        """Django's bulk delete, refused whole when one of the rows is not the actor's to delete."""
        selected = list(queryset)
        if len(self.matrix_partition(request, selected, self.matrix_delete_action)) < len(selected):
            return None
        return django_delete_selected(self, request, queryset)
