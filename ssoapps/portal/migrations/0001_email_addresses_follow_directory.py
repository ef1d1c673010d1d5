"""Remove allauth EmailAddress rows that disagree with the directory (left by self-service email changes)."""

from django.conf import settings
from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower


def remove_stale_addresses(apps, schema_editor):
    EmailAddress = apps.get_model("account", "EmailAddress")
    stale = EmailAddress.objects.annotate(address=Lower("email"), directory=Lower("user__email")).exclude(
        address=F("directory")
    )
    stale.delete()


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(remove_stale_addresses, migrations.RunPython.noop)]
