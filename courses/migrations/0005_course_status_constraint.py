from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("courses", "0004_course_status_values")]

    operations = [
        migrations.AddConstraint(
            model_name="course",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["registering", "open", "closed", "pending", "confirmed", "cancelled"])
                ),
                name="course_status_valid",
            ),
        ),
    ]
