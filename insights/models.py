"""The event log: one row per thing Lanyard did or refused to do; its API keys and retention settings."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core.url_policy import url_check


class Service(models.TextChoices):
    """The part of Lanyard an event comes from."""

    DIRECTORY = "directory", "Directory"
    SSO = "sso", "SSO"
    SCIM = "scim", "SCIM provisioning"
    ADMIN = "admin", "Admin"
    PORTAL = "portal", "Portal"


class Event(models.Model):
    """An audit event. Initiator and resource are snapshots, so deleting either orphans nothing."""

    organization = models.ForeignKey(
        "directory.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # every index below starts with organization; a lone one only costs writes
    )
    timestamp = models.DateTimeField(default=timezone.now)
    event_type = models.CharField(max_length=64)
    service = models.CharField(max_length=16, choices=Service.choices)
    success = models.BooleanField(default=True)

    initiator_type = models.CharField(max_length=16, blank=True)  # user, admin, system, api_key
    initiator_id = models.CharField(max_length=64, blank=True)
    initiator_email = models.CharField(max_length=254, blank=True)

    resource_type = models.CharField(max_length=32, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    resource_name = models.CharField(max_length=255, blank=True)

    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    message = models.TextField(blank=True)
    changes = models.JSONField(default=list, blank=True)
    correlation_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        # Every query is newest-first within one organization and pages by (timestamp, id), so each
        # index ends in (timestamp, id): a page is one backward index range scan, never a sort.
        indexes = [
            models.Index(fields=["organization", "timestamp", "id"], name="event_org_time_id"),
            models.Index(fields=["organization", "event_type", "timestamp", "id"], name="event_org_type_time_id"),
            models.Index(
                fields=["organization", "resource_type", "resource_id", "timestamp", "id"],
                name="event_org_res_time_id",
            ),
            models.Index(fields=["organization", "initiator_id", "timestamp", "id"], name="event_org_init_time_id"),
            models.Index(fields=["organization", "initiator_email", "timestamp", "id"], name="event_org_email_time_id"),
            models.Index(fields=["organization", "resource_name", "timestamp", "id"], name="event_org_rname_time_id"),
            models.Index(
                fields=["organization", "timestamp", "id"],
                name="event_org_failed_time_id",
                condition=models.Q(success=False),
            ),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.success else "failed"
        return f"{self.event_type} ({outcome}) {self.resource_name}".strip()

    @property
    def initiated_by(self) -> dict:
        """The initiator snapshot as DESIGN.md names it."""
        return {"type": self.initiator_type, "id": self.initiator_id, "email": self.initiator_email}

    @property
    def resource(self) -> dict:
        """The resource snapshot as DESIGN.md names it."""
        return {"type": self.resource_type, "id": self.resource_id, "name": self.resource_name}


class ApiKey(models.Model):
    """An organization's key for the query API. Only its sha256 is stored; the key is shown once."""

    organization = models.ForeignKey("directory.Organization", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What this key is for, e.g. “SIEM export”.")
    prefix = models.CharField(max_length=16, editable=False, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by_email = models.CharField(max_length=254, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """A key works until it is revoked."""
        return self.revoked_at is None


DEFAULT_RETENTION_DAYS = 90


class RetentionPolicy(models.Model):
    """How long an organization's events are kept, and what the last pruning run did."""

    organization = models.OneToOneField(
        "directory.Organization", on_delete=models.CASCADE, related_name="event_retention"
    )
    retention_days = models.PositiveIntegerField(
        default=DEFAULT_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Events older than this many days are deleted (1 to 3650).",
    )
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_removed = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "event retention"
        verbose_name_plural = "event retention"

    def __str__(self) -> str:
        return f"Keep {self.retention_days} days of events ({self.organization.slug})"


class WebhookTarget(models.Model):
    """A SIEM endpoint the organization's events are streamed to, in order, as JSON Lines batches."""

    organization = models.ForeignKey("directory.Organization", on_delete=models.CASCADE, related_name="event_webhooks")
    url = models.URLField(max_length=500, help_text="HTTPS endpoint that accepts POSTed JSON Lines.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_delivered_id = models.BigIntegerField(default=0, editable=False, help_text="Events up to this id were sent.")
    last_delivery_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "event webhook"

    def __str__(self) -> str:
        return f"{self.url} ({self.organization.slug})"

    def clean(self) -> None:
        super().clean()
        if self.url:
            try:
                url_check(self.url, field="webhook URL")
            except ValidationError as exc:
                raise ValidationError({"url": exc.messages}) from exc
