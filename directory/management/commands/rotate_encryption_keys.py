"""Re-encrypt every stored secret with the first key in FIELD_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.encryption import encrypted_fields, registered_rotations, rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEYS key (run after adding a key)."

    def handle(self, *args, **options):
        total = 0
        for model, field in encrypted_fields():
            table, column = model._meta.db_table, field.column
            pk = model._meta.pk.column
            with transaction.atomic():
                rows = model._default_manager.exclude(**{f"{field.name}__isnull": True}).values_list("pk", flat=True)
                for row_pk in rows.iterator():
                    with connection.cursor() as cursor:
                        quote = connection.ops.quote_name
                        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(pk)} = %s", [row_pk])  # noqa: S608
                        (stored,) = cursor.fetchone()
                        if not stored:
                            continue
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                            [rotate(stored), row_pk],
                        )
                    total += 1
        for rotate_all in registered_rotations():
            total += rotate_all()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} stored secret(s) with the current key."))
