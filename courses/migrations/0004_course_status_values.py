"""Existing courses take the new status codes and their organiser's authority; the tag list is seeded."""

from django.db import migrations

from courses.choices import SEED_TAGS

OLD_TO_NEW = {"draft": "registering"}  # open, closed and confirmed keep their codes


def forwards(apps, schema_editor):
    Course = apps.get_model("courses", "Course")
    Unit = apps.get_model("accounts", "Unit")
    Tag = apps.get_model("courses", "Tag")
    for old, new in OLD_TO_NEW.items():
        Course.objects.filter(status=old).update(status=new)
    for unit in Unit.objects.filter(courses__isnull=False).distinct():
        authority_id = unit.id if unit.kind == "authority" else unit.authority_id
        if authority_id:
            Course.objects.filter(organiser_id=unit.id).update(authority_id=authority_id)
    for name in SEED_TAGS:
        Tag.objects.get_or_create(name=name)


def backwards(apps, schema_editor):
    Course = apps.get_model("courses", "Course")
    for old, new in OLD_TO_NEW.items():
        Course.objects.filter(status=new).update(status=old)
    Course.objects.filter(status__in=["pending", "cancelled"]).update(status="closed")


class Migration(migrations.Migration):
    dependencies = [("courses", "0003_course_lifecycle")]

    operations = [migrations.RunPython(forwards, backwards)]
