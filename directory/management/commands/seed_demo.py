"""Seed the demo organization `acme` (idempotent): an admin, a few users, groups."""

import os

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from directory import services
from directory.models import Organization, User, UserGroup
from directory.roles import ADMINISTRATOR
from insights.context import bind

DEFAULT_PASSWORD = "lanyard-demo-2026"

PEOPLE = [
    # email, first, last, department, job title, groups
    ("admin@acme.example", "Ada", "Admin", "IT", "IT administrator", ["IT"]),
    ("alice@acme.example", "Alice", "Anders", "Engineering", "Engineer", ["Engineering", "Everyone"]),
    ("bob@acme.example", "Bob", "Berg", "Engineering", "Engineer", ["Engineering", "Everyone"]),
    ("carol@acme.example", "Carol", "Chen", "Sales", "Account executive", ["Sales", "Everyone"]),
    ("dave@acme.example", "Dave", "Diaz", "Sales", "Sales manager", ["Sales", "Everyone"]),
]
GROUPS = {
    "Everyone": "All staff.",
    "Engineering": "Product engineers.",
    "Sales": "The sales team.",
    "IT": "IT administrators.",
}


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo organization acme. Safe to run again."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        with bind(initiator_type="system"), transaction.atomic():
            organization = self.seed(password)
        self.stdout.write(self.style.SUCCESS(f"Demo organization “{organization.name}” is ready."))
        self.stdout.write("  Admin:    http://127.0.0.1:8000/admin/")
        self.stdout.write("  Sign in:  admin@acme.example (or alice@, bob@, carol@, dave@acme.example)")
        if os.environ.get("DEMO_PASSWORD"):
            self.stdout.write("  Password: the value of DEMO_PASSWORD")
        else:
            self.stdout.write(f"  Password: {DEFAULT_PASSWORD}   (set DEMO_PASSWORD to choose another)")

    def seed(self, password: str) -> Organization:
        organization, _ = Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme Corp"})
        groups = {}
        for name, description in GROUPS.items():
            group = UserGroup.objects.filter(organization=organization, name=name).first()
            groups[name] = group or services.group_create(organization=organization, name=name, description=description)
        for email, first, last, department, title, group_names in PEOPLE:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = services.user_create(
                    organization=organization,
                    email=email,
                    first_name=first,
                    last_name=last,
                    department=department,
                    job_title=title,
                    is_staff=email.startswith("admin@"),
                )
            if not user.check_password(password):
                services.user_set_password(user=user, password=password)
            for name in group_names:
                services.group_members_add(group=groups[name], users=[user])
        admin = User.objects.get(email="admin@acme.example")
        services.user_roles_set(user=admin, roles=[Group.objects.get(name=ADMINISTRATOR)])
        return organization
