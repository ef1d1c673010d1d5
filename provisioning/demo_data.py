"""Demo data for provisioning: the Demo SP app's integration, pointed at the demo SCIM server (demo/scim)."""

import os

from django.core.exceptions import ValidationError

from ssoapps.models import Application

from . import services
from .models import Integration, IntegrationStatus

DEFAULT_SCIM_URL = "http://127.0.0.1:8002/scim/v2"
DEFAULT_SCIM_TOKEN = "demo-scim-token"


def seed_integration(*, application: Application) -> Integration:
    """Configure the app's SCIM integration (idempotent); activate it only if the demo SCIM server answers."""
    base_url = os.environ.get("DEMO_SCIM_URL") or DEFAULT_SCIM_URL
    token = os.environ.get("DEMO_SCIM_TOKEN") or DEFAULT_SCIM_TOKEN
    integration = Integration.objects.filter(application=application).first()
    if integration is None or integration.base_url != base_url or integration.token != token:
        integration = services.integration_configure(application=application, base_url=base_url, token=token)
    if integration.status == IntegrationStatus.INACTIVE:
        try:
            integration = services.integration_activate(integration=integration)
        except ValidationError:
            pass  # the SCIM server is not running: saved configured, activate it from the admin later
    return integration
