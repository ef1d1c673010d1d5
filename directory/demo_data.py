"""Demo data for the directory: organization acme, its admin, a few users in groups (idempotent)."""

from django.contrib.auth.models import Group

from . import services
from .models import Organization, User, UserGroup
from .roles import ADMINISTRATOR

DEMO_ADMIN_EMAIL = "admin@acme.example"

PEOPLE = [
    # email, first, last, department, job title, groups
    (DEMO_ADMIN_EMAIL, "Ada", "Admin", "IT", "IT administrator", ["IT"]),
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


def seed_directory(*, password: str) -> Organization:
    """Create or bring up to date the acme organization, its groups and people."""
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
                is_staff=email == DEMO_ADMIN_EMAIL,
            )
        if not user.check_password(password):
            services.user_set_password(user=user, password=password)
        for name in group_names:
            services.group_members_add(group=groups[name], users=[user])
    admin = User.objects.get(email=DEMO_ADMIN_EMAIL)
    services.user_roles_set(user=admin, roles=[Group.objects.get(name=ADMINISTRATOR)])
    return organization
