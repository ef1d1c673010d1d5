"""SCIM provisioning rows: one Integration per application, one ProvisionedAccount per (integration, user)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.encryption import EncryptedTextField
from core.url_policy import url_check
from directory.models import User
from ssoapps.models import Application


class IntegrationStatus(models.TextChoices):
    """Whether the engine talks to the app, and how well that goes."""

    INACTIVE = "inactive", "Inactive"
    ACTIVE = "active", "Active"
    FAILING = "failing", "Failing"
    QUARANTINED = "quarantined", "Quarantined"


class Integration(models.Model):
    """An application's identity management over SCIM: where to send users, with which token."""

    tenant_path = "application__organization"
    event_resource_type = "integration"

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="integration")
    base_url = models.URLField(
        "SCIM base URL", max_length=500, help_text="The app's SCIM 2.0 endpoint, e.g. https://api.example.com/scim/v2"
    )
    token = EncryptedTextField("API token", blank=True, help_text="Bearer token; stored encrypted, never shown again.")
    status = models.CharField(max_length=16, choices=IntegrationStatus.choices, default=IntegrationStatus.INACTIVE)
    capabilities = models.JSONField(
        default=dict, blank=True, help_text="What the app supports, from the catalog and its ServiceProviderConfig."
    )
    rate_limit = models.PositiveIntegerField(
        "requests per second", default=50, help_text="At most this many SCIM requests per second to the app."
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    total_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    quarantined_at = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    remote_groups = models.JSONField(
        default=dict, blank=True, help_text="Directory group id → the app's group id, for apps that take groups."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["application__label"]

    def __str__(self) -> str:
        return f"SCIM for {self.application}"

    @property
    def organization(self):
        """The organization of the application."""
        return self.application.organization

    def clean(self) -> None:
        super().clean()
        if self.base_url:
            try:
                url_check(self.base_url, field="SCIM base URL")
            except ValidationError as exc:
                raise ValidationError({"base_url": exc.messages}) from exc

    @property
    def is_running(self) -> bool:
        """Whether reconciles may talk to the app (active or failing, not quarantined or off)."""
        return self.status in (IntegrationStatus.ACTIVE, IntegrationStatus.FAILING)


class AccountState(models.TextChoices):
    """What an app account is (or should be) on the app's side."""

    NONE = "none", "Not in the app"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Deactivated"
    DELETED = "deleted", "Deleted"


class ProvisionedAccount(models.Model):
    """One directory user's account in one app: what we last sent, and whether it needs another look."""

    tenant_path = "integration__application__organization"
    event_resource_type = "provisioned_account"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="accounts")
    # SET_NULL: the account outlives a deleted user long enough to delete or deactivate it remotely.
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="app_accounts")
    user_snapshot = models.JSONField(default=dict, blank=True, help_text="email and userName, kept after deletion.")
    user_deleted = models.BooleanField(default=False)
    remote_id = models.CharField(max_length=255, blank=True)
    lookup_done = models.BooleanField(
        default=False, help_text="The app was searched for this user (or the user was created there)."
    )
    desired_state = models.CharField(max_length=16, choices=AccountState.choices, default=AccountState.NONE)
    sent_state = models.CharField(max_length=16, choices=AccountState.choices, default=AccountState.NONE)
    last_payload = models.JSONField(default=dict, blank=True)
    dirty = models.BooleanField(default=False)
    generation = models.PositiveIntegerField(default=0, help_text="Bumped by every change that marks it dirty.")
    marked_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["integration_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "user"], condition=models.Q(user__isnull=False), name="account_per_user"
            )
        ]
        indexes = [models.Index(fields=["dirty", "marked_at"], name="account_dirty")]

    def __str__(self) -> str:
        return f"{self.email} in {self.integration.application}"

    @property
    def email(self) -> str:
        """The user's email, from the snapshot (kept after the user is deleted)."""
        return self.user_snapshot.get("email", "")

    @property
    def in_sync(self) -> bool:
        """Nothing left to send."""
        return not self.dirty
