"""Seed the demo organization `acme` (idempotent). Lives in provisioning, the top layer, so it
can call each layer's own demo_data module: directory, then ssoapps, then provisioning."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from directory.demo_data import DEMO_ADMIN_EMAIL, seed_directory
from insights.context import bind
from provisioning.demo_data import seed_integration
from ssoapps.demo_data import seed_applications
from ssoapps.portal.demo_data import seed_portal

DEFAULT_PASSWORD = "lanyard-demo-2026"


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo organization acme. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print only the SCIM integration's status.")

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        with bind(initiator_type="system"), transaction.atomic():
            organization = seed_directory(password=password)
            demo_sp = seed_applications(organization=organization)
            integration = seed_integration(application=demo_sp)
            seed_portal(organization=organization)
        if options["quiet"]:
            self.stdout.write(f"Demo SP provisioning (SCIM): {integration.get_status_display().lower()}")
            return
        base = settings.SSO_BASE_URL
        sp_url = os.environ.get("DEMO_SP_URL", "http://127.0.0.1:8001")
        scim_url = integration.base_url.rsplit("/scim", 1)[0]
        self.stdout.write(self.style.SUCCESS(f"Demo organization “{organization.name}” is ready."))
        self.stdout.write(f"  Admin:    {base}/admin/")
        self.stdout.write(f"  Portal:   {base}/")
        self.stdout.write(f"  Sign in:  {DEMO_ADMIN_EMAIL} (or alice@, bob@, carol@, dave@acme.example)")
        self.stdout.write(f"  Demo SP:  {sp_url}/ (the app; started by `make demo`)")
        self.stdout.write(
            f"  SCIM:     {scim_url}/ lists the app's users; provisioning is {integration.get_status_display().lower()}"
        )
        if os.environ.get("DEMO_PASSWORD"):
            self.stdout.write("  Password: the value of DEMO_PASSWORD")
        else:
            self.stdout.write(f"  Password: {DEFAULT_PASSWORD}   (set DEMO_PASSWORD to choose another)")
