"""The trusted address (teachers.trust): addresses written before their provenance was recorded are
taken as written by the unit each person serves at now (a person serving nowhere keeps no trusted
address). An address filled in through the old 批次上傳 gap (issue 16 point 2) cannot be told
apart here: it counts as the serving unit's, which can correct it in 編輯帳號個人資料."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Person = apps.get_model("accounts", "Person")
    Membership = apps.get_model("teachers", "Membership")
    serving = Membership.objects.filter(person=OuterRef("pk"), end_date__isnull=True).values("unit_id")[:1]
    Person.objects.exclude(email="").filter(email_unit__isnull=True).update(email_unit=Subquery(serving))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_person_email_provenance"),
        ("teachers", "0007_roster_uploads"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
