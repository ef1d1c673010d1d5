"""The tenant directory: organizations, their users and their groups."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from insights.text import text_is_storable

# Said when an address belongs to a user of another organization: an address has one user in the whole
# installation, and a tenant admin must not learn from the refusal that it has an account elsewhere.
EMAIL_UNUSABLE = (
    "This email address cannot be used for a user of this organization. "
    "Check the address with the person or ask them for another one; contact support if it should be theirs."
)


def text_fields_check(instance: models.Model) -> None:
    """Refuse text PostgreSQL cannot store (a NUL), naming each field, before any query or write uses it."""
    errors = {
        field.name: "This value contains a NUL or another character that cannot be stored. Remove it."
        for field in instance._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and isinstance(value := getattr(instance, field.attname), str)
        and not text_is_storable(value)
    }
    if errors:
        raise ValidationError(errors)


class Organization(models.Model):
    """A tenant: a company with its own users, groups and applications."""

    tenant_path = "pk"  # how core.tenancy reaches a row's organization: here, the row itself

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True, help_text="Short unique name, used in URLs.")
    require_mfa = models.BooleanField(
        "require MFA",
        default=False,
        help_text="Users must set up a second factor (authenticator app or security key) before they reach the "
        "portal or any app.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        text_fields_check(self)


class TenantOwned(models.Model):
    """A row that belongs to one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class UserState(models.TextChoices):
    """Lifecycle of a directory user."""

    STAGED = "staged", "Staged"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class UserManager(BaseUserManager):
    """Looks users up by email, case-insensitively."""

    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **fields):
        """Create a user (used by Django's tooling; application code uses directory.services)."""
        fields.setdefault("username", (email or "").split("@")[0])
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        """A platform operator: superuser with no organization."""
        fields.update(is_staff=True, is_superuser=True, state=UserState.ACTIVE)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person in an organization's directory; signs in with email and password."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="users",
        help_text="Empty only for platform operators (superusers).",
    )
    email = models.EmailField(unique=True)
    username = models.CharField(max_length=150, help_text="Unique within the organization.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=150, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    employee_id = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=UserState.choices, default=UserState.ACTIVE)
    is_staff = models.BooleanField(
        "tenant admin",
        default=False,
        help_text="Can sign in to the admin of this organization (with the permissions of their roles).",
    )
    date_joined = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(fields=["organization", "username"], name="user_username_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "state"], name="user_org_state")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        """Only active users may sign in; staged and suspended ones may not."""
        return self.state == UserState.ACTIVE

    def get_full_name(self) -> str:
        """Display name, else first and last name, else email."""
        return self.display_name or f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def clean(self) -> None:
        super().clean()
        text_fields_check(self)  # before the lookups below: on PostgreSQL a NUL in a query is an error too
        self.email = (self.email or "").strip().lower()
        if not self.username and self.email:
            self.username = self.email.split("@")[0]
        if not self.is_superuser and self.organization_id is None:
            raise ValidationError({"organization": "Choose the organization this user belongs to."})
        holder = User.objects.filter(email__iexact=self.email).exclude(pk=self.pk).only("organization").first()
        if self.email and holder is not None:
            if holder.organization_id != self.organization_id:
                raise ValidationError({"email": EMAIL_UNUSABLE})
            raise ValidationError({"email": "Another user of this organization already has this email address."})
        username_taken = User.objects.filter(organization_id=self.organization_id, username=self.username)
        if self.organization_id and username_taken.exclude(pk=self.pk).exists():
            raise ValidationError(
                {"username": f"The username “{self.username}” is already taken in this organization."}
            )

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class UserGroup(TenantOwned):
    """A named set of users in one organization; apps are authorized per group."""

    event_resource_type = "group"

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, related_name="user_groups", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="group_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        text_fields_check(self)
        taken = UserGroup.objects.filter(organization_id=self.organization_id, name__iexact=self.name)
        if self.organization_id and taken.exclude(pk=self.pk).exists():
            raise ValidationError({"name": f"A group named “{self.name}” already exists in this organization."})
