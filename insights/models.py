"""The event log: one row per thing Lanyard did or refused to do."""

from django.db import models
from django.utils import timezone


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
        indexes = [
            models.Index(fields=["organization", "timestamp"], name="event_org_time"),
            models.Index(fields=["organization", "event_type", "timestamp"], name="event_org_type_time"),
            models.Index(
                fields=["organization", "resource_type", "resource_id", "timestamp"],
                name="event_org_resource_time",
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
