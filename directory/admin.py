"""Admin for users and groups (organizations and roles: organization_admin); every write goes through services.

Who may change whom is the permission matrix (directory.permissions), applied per user by MatrixAdminMixin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import ngettext

from core.tenancy import TenantScopedAdmin, organization_of, scope
from insights.recent_events import RecentEventsMixin

from . import (
    organization_admin,  # noqa: F401 - registers the admins of organizations and roles
    services,
)
from .errors import error_sentence
from .matrix_admin import MatrixAdminMixin
from .models import Organization, User, UserGroup, UserState
from .permissions import permission_check, permitted
from .roles import ROLE_ACTIONS
from .user_import import COLUMNS, users_import_csv

admin.site.site_header = "Lanyard administration"
admin.site.site_title = "Lanyard"
admin.site.index_title = "Your organization"


class GroupFilter(admin.SimpleListFilter):
    """Filter users by one of this organization's groups."""

    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = scope(UserGroup.objects.all(), request).values_list("pk", "name")
        return [(str(pk), name) for pk, name in groups]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit() and len(value) <= 18:  # "²".isdigit() is true too
            return queryset.filter(user_groups__pk=int(value))
        return queryset


class UserAdminForm(forms.ModelForm):
    """The user form, plus an optional new password that is never shown back and must pass the validators."""

    username = forms.CharField(
        required=False,
        max_length=150,
        help_text="Unique within the organization. Leave empty to use the part of the email before the @.",
    )
    new_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = User
        fields = ("organization", *services.USER_ATTRIBUTES, "state", "groups", "is_superuser")

    def _post_clean(self):
        super()._post_clean()
        password = self.cleaned_data.get("new_password")
        if password:  # judged against the attributes just entered, as Django's own user forms do
            try:  # the refusal's event names the signed-in admin through the request's event context
                services.user_password_validate(user=self.instance, password=password)
            except ValidationError as exc:
                self.add_error("new_password", exc)


class GroupChoiceForm(forms.Form):
    """Pick one of the organization's groups for a bulk membership action."""

    group = forms.ModelChoiceField(queryset=UserGroup.objects.none(), empty_label=None)


class UserImportForm(forms.Form):
    """A CSV file of users."""

    file = forms.FileField(help_text="UTF-8 CSV, first line naming the columns.")
    organization = forms.ModelChoiceField(queryset=Organization.objects.all(), required=False)


# The matrix action a posted field of the user form asks for (directory.permissions).
PROFILE_FIELDS = tuple(f for f in services.USER_ATTRIBUTES if f != "is_staff")
FIELD_ACTIONS = {
    **dict.fromkeys(PROFILE_FIELDS, "change_profile"),
    "new_password": "set_password",
    "state": "change_state",
    "is_staff": "change_roles",
    "groups": "change_roles",
}


@admin.register(User)
class UserAdmin(MatrixAdminMixin, RecentEventsMixin, TenantScopedAdmin):
    """Directory users of the organization; an admin changes only users whose role is below their own."""

    form = UserAdminForm
    change_list_template = "admin/directory/user/change_list.html"
    list_display = ("email", "full_name", "username", "state", "department", "job_title", "is_staff")
    list_filter = ("state", GroupFilter, "is_staff", "organization")
    search_fields = ("email", "username", "first_name", "last_name", "display_name", "employee_id")
    list_per_page = 100
    ordering = ("email",)
    actions = ["suspend_users", "reactivate_users", "add_to_group", "remove_from_group", "delete_selected"]
    readonly_fields = ("last_login", "date_joined")
    matrix_field_actions = FIELD_ACTIONS
    matrix_write_only = ("new_password",)
    fieldsets = (
        (None, {"fields": ("organization", "email", "username", "state", "new_password")}),
        ("Profile", {"fields": ("first_name", "last_name", "display_name", "department", "job_title")}),
        ("More", {"fields": ("employee_id", "phone", "description")}),
        ("Administration", {"fields": ("is_staff", "groups", "last_login", "date_joined")}),
    )

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, obj):
        return f"{obj.first_name} {obj.last_name}".strip() or obj.display_name

    def has_change_state_permission(self, request):
        return permitted(actor=request.user, action="change_state")

    def has_change_membership_permission(self, request):
        return permitted(actor=request.user, action="change_membership")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            fieldsets = [*fieldsets, ("Platform", {"fields": ("is_superuser",)})]
        return fieldsets

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":  # admin roles are global definitions, shared by every tenant
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_ACTIONS)
            kwargs["label"] = "Admin roles"
            kwargs["help_text"] = "What this tenant admin may do in the admin."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.USER_ATTRIBUTES or f == "state"}
        if change:
            user = services.user_update(user=obj, actor=request.user, data=data)
        else:
            data.pop("email", None)
            state = data.pop("state", UserState.ACTIVE)
            user = services.user_create(
                organization=obj.organization or organization_of(request),
                email=obj.email,
                state=state,
                actor=request.user,
                **data,
            )
        if request.user.is_superuser and "is_superuser" in form.changed_data:
            services.user_superuser_set(user=user, is_superuser=form.cleaned_data["is_superuser"], actor=request.user)
        if form.cleaned_data.get("new_password"):
            services.user_set_password(user=user, password=form.cleaned_data["new_password"], actor=request.user)
        user.refresh_from_db()
        obj.__dict__.update(user.__dict__)

    def save_related(self, request, form, formsets, change):
        if "groups" in form.cleaned_data:
            services.user_roles_set(user=form.instance, roles=form.cleaned_data["groups"], actor=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.user_delete(user=user, actor=request.user)

    # --- bulk actions: users the actor may not touch are skipped, named and recorded ------

    def _set_state(self, request, queryset, state: str, verb: str) -> None:
        candidates = []
        for user in queryset.prefetch_related("groups"):
            if user.pk == request.user.pk and state == UserState.SUSPENDED:
                self.message_user(request, "You cannot suspend yourself; ask another admin.", messages.WARNING)
            elif user.state != state:
                candidates.append(user)
        event_type = "user_suspend" if state == UserState.SUSPENDED else "user_reactivate"
        allowed = self.matrix_partition(request, candidates, "change_state", event_type=event_type)
        for user in allowed:
            services.user_state_set(user=user, state=state, actor=request.user)
        changed = len(allowed)
        self.message_user(request, ngettext(f"{changed} user {verb}.", f"{changed} users {verb}.", changed))

    @admin.action(description="Suspend selected users", permissions=["change_state"])
    def suspend_users(self, request, queryset):
        self._set_state(request, queryset, UserState.SUSPENDED, "suspended")

    @admin.action(description="Reactivate selected users", permissions=["change_state"])
    def reactivate_users(self, request, queryset):
        self._set_state(request, queryset, UserState.ACTIVE, "reactivated")

    def _membership_action(self, request, queryset, *, add: bool):
        form = GroupChoiceForm(request.POST if "apply" in request.POST else None)
        form.fields["group"].queryset = scope(UserGroup.objects.all(), request)
        if form.is_bound and form.is_valid():
            group = form.cleaned_data["group"]
            users = list(queryset.prefetch_related("groups"))
            members = set(group.members.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
            changing = [u for u in users if (u.pk in members) != add]
            event_type = "group_member_add" if add else "group_member_remove"
            allowed = self.matrix_partition(request, changing, "change_membership", event_type=event_type)
            try:
                if add:
                    done = services.group_members_add(group=group, users=allowed, actor=request.user)
                else:
                    done = services.group_members_remove(group=group, users=allowed, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, error_sentence(exc), messages.ERROR)
                return None
            verb = "added to" if add else "removed from"
            self.message_user(request, f"{len(done)} user(s) {verb} {group.name}.")
            return None
        if not form.fields["group"].queryset.exists():
            self.message_user(request, "This organization has no groups yet. Create a group first.", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Add users to a group" if add else "Remove users from a group",
            "form": form,
            "users": queryset,
            "action": request.POST["action"],
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/directory/user/group_action.html", context)

    @admin.action(description="Add selected users to a group", permissions=["change_membership"])
    def add_to_group(self, request, queryset):
        return self._membership_action(request, queryset, add=True)

    @admin.action(description="Remove selected users from a group", permissions=["change_membership"])
    def remove_from_group(self, request, queryset):
        return self._membership_action(request, queryset, add=False)

    # --- CSV import ---------------------------------------------------------------------

    def get_urls(self):
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name="directory_user_import")]
        return extra + super().get_urls()

    def import_view(self, request):
        """Upload a CSV of users and show what happened to each row."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = UserImportForm(request.POST or None, request.FILES or None)
        if not request.user.is_superuser:
            del form.fields["organization"]
        report = None
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data.get("organization") or organization_of(request)
            if organization is None:
                form.add_error("organization", "Choose the organization to import into.")
            else:
                try:
                    report = users_import_csv(
                        organization=organization, data=form.cleaned_data["file"], actor=request.user
                    )
                except ValidationError as exc:
                    form.add_error("file", error_sentence(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import users from CSV",
            "form": form,
            "report": report,
            "columns": COLUMNS,
            "opts": self.model._meta,
            "changelist_url": reverse("admin:directory_user_changelist"),
        }
        return TemplateResponse(request, "admin/directory/user/import.html", context)


class UserGroupAdminForm(forms.ModelForm):
    """A group; moving someone of the admin's own role or higher in or out is refused with a sentence."""

    actor = None  # the signed-in admin, set per request by UserGroupAdmin.get_form

    def clean_members(self):
        members = self.cleaned_data["members"]
        before = set(self.instance.members.all()) if self.instance.pk else set()
        for user in sorted(set(members) ^ before, key=lambda u: u.email):
            event_type = "group_member_add" if user not in before else "group_member_remove"
            # Refused is a ValidationError too: it becomes this field's error; its event is recorded.
            permission_check(actor=self.actor, action="change_membership", target=user, event_type=event_type)
        return members


@admin.register(UserGroup)
class UserGroupAdmin(TenantScopedAdmin):
    """User groups; membership changes go through the services so apps hear of them."""

    form = UserGroupAdminForm

    list_display = ("name", "member_count", "description")
    list_filter = ("organization",)
    search_fields = ("name", "description")
    autocomplete_fields = ("members",)
    fields = ("organization", "name", "description", "members")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    def save_model(self, request, obj, form, change):
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in ("name", "description")}
            services.group_update(group=obj, actor=request.user, data=data)
        else:
            group = services.group_create(
                organization=obj.organization or organization_of(request),
                name=obj.name,
                description=obj.description,
                actor=request.user,
            )
            obj.__dict__.update(group.__dict__)

    def save_related(self, request, form, formsets, change):
        if "members" in form.cleaned_data:
            services.group_members_set(group=form.instance, users=form.cleaned_data["members"], actor=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.group_delete(group=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for group in queryset:
            services.group_delete(group=group, actor=request.user)
