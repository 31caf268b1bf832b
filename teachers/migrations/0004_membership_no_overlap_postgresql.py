"""PostgreSQL only: no two memberships of one person in force on the same day (SPEC §3.1).

An exclusion constraint over (person, daterange(start, end, '[]')) with btree_gist. SQLite has
nothing like it; there every writer of memberships checks overlaps itself (teachers.services,
teachers.importers), which PostgreSQL then backs up.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE teachers_membership ADD CONSTRAINT membership_no_overlap
    EXCLUDE USING gist (person_id WITH =, daterange(start_date, end_date, '[]') WITH &&);
"""
DROP = "ALTER TABLE teachers_membership DROP CONSTRAINT IF EXISTS membership_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("teachers", "0003_roster_accounts")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
