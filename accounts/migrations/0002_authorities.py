"""Ship the 23 competent authorities as data (SPEC §2)."""

from django.db import migrations

# A pure data module (no models), so the migration may import it.
from accounts.authorities import AUTHORITIES


def add_authorities(apps, schema_editor):
    Unit = apps.get_model("accounts", "Unit")
    for code, name in AUTHORITIES:
        Unit.objects.update_or_create(code=code, defaults={"name": name, "kind": "authority", "stage": ""})


def remove_authorities(apps, schema_editor):
    Unit = apps.get_model("accounts", "Unit")
    Unit.objects.filter(kind="authority", code__in=[code for code, _ in AUTHORITIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(add_authorities, remove_authorities)]
