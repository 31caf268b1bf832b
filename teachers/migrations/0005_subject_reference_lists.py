"""Data: the 任教科目 reference list of each stage (teachers/subject_lists.py, as of this migration)."""

from django.db import migrations

from teachers.subject_lists import stages_by_subject


def ship(apps, schema_editor):
    Subject = apps.get_model("teachers", "Subject")
    for name, stages in stages_by_subject().items():
        Subject.objects.update_or_create(name=name, defaults={"stages": stages})


class Migration(migrations.Migration):
    dependencies = [("teachers", "0004_membership_no_overlap_postgresql")]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
