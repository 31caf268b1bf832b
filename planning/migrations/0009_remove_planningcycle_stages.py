# The stages in planning scope are SPEC §6/§7's, not a cycle's choice (issue 17 point 3):
# accounts.PLANNING_STAGES is read everywhere.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('planning', '0008_plan_reopening'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='planningcycle',
            name='stages',
        ),
    ]
