"""報名序號: a random number per enrolment, for the participant list and the attendance file."""

from django.db import migrations, models

import courses.models


def fill_numbers(apps, schema_editor):
    Enrolment = apps.get_model("courses", "Enrolment")
    taken = set()
    batch = []
    for enrolment in Enrolment.objects.filter(number__isnull=True).only("pk").iterator(chunk_size=2000):
        number = courses.models.new_enrolment_number()
        while number in taken:
            number = courses.models.new_enrolment_number()
        taken.add(number)
        enrolment.number = number
        batch.append(enrolment)
        if len(batch) >= 2000:
            Enrolment.objects.bulk_update(batch, ["number"])
            batch = []
    Enrolment.objects.bulk_update(batch, ["number"])


class Migration(migrations.Migration):
    dependencies = [("courses", "0008_partner_credentials")]

    operations = [
        migrations.AddField(
            model_name="enrolment",
            name="number",
            field=models.CharField(max_length=11, null=True, editable=False, verbose_name="報名序號"),
        ),
        migrations.RunPython(fill_numbers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="enrolment",
            name="number",
            field=models.CharField(
                default=courses.models.new_enrolment_number,
                editable=False,
                max_length=11,
                unique=True,
                verbose_name="報名序號",
            ),
        ),
    ]
