"""One migrated template database per schema, cloned for each pytest-xdist worker (PostgreSQL only).

Without it every worker of `make quick` runs the 98 migrations into its own test database (about
6 s of CPU each). Here the first worker migrates a template database once, and every worker's
database is `CREATE DATABASE … TEMPLATE`, a file copy on the server. The template is named after a
digest of everything that decides the migrated schema and rows: the portal's Python code (its models,
migrations and the code data migrations call) and requirements.lock (the third-party apps and their
migrations). Any change to those gives a new name, so a template is never reused for a schema it was
not built from; a later run with the same code clones it without migrating (a fresh clone in CI
migrates once, not once per worker). Templates of older digests are dropped when a new one is built.

The template is built under a temporary name and renamed once migrated, so a run stopped half-way
leaves nothing that a later run would clone. A session-level advisory lock makes concurrent workers
(and concurrent runs on the same server) wait for the one that builds it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.base.creation import BaseDatabaseCreation

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "core", "courses", "inservice", "planning", "rewards", "teachers")
_original_create_test_db = BaseDatabaseCreation.create_test_db


def schema_digest() -> str:
    digest = hashlib.sha256()
    files = [
        ROOT / "requirements.lock",
        *(path for app in APPS for path in sorted((ROOT / app).rglob("*.py"))),
    ]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
    """BaseDatabaseCreation.create_test_db, cloning the template on PostgreSQL (see the module text)."""
    connection = self.connection
    if (
        connection.vendor != "postgresql"
        or keepdb
        or connection.settings_dict["TEST"].get("MIGRATE") is False
    ):
        return _original_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
    from django.core.management import call_command

    quote = connection.ops.quote_name
    test_name = self._get_test_db_name()
    prefix = f"test_{connection.settings_dict['NAME'][:36]}_tpl_"
    template = prefix + schema_digest()
    with self._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [prefix])
        try:
            if not _exists(cursor, template):
                building = template + "_new"
                saved_name, saved_test = (
                    connection.settings_dict["NAME"],
                    dict(connection.settings_dict["TEST"]),
                )
                connection.settings_dict["TEST"]["NAME"] = building
                try:
                    _original_create_test_db(self, verbosity, True, False, False)
                finally:
                    connection.close()
                    connection.settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = (
                        saved_name
                    )
                    connection.settings_dict["TEST"] = saved_test
                cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
                cursor.execute(
                    "SELECT datname FROM pg_database WHERE left(datname, %s) = %s", [len(prefix), prefix]
                )
                for (stale,) in cursor.fetchall():
                    if stale != template:
                        try:
                            cursor.execute(f"DROP DATABASE IF EXISTS {quote(stale)}")
                        except DatabaseError:  # in use by a run of older code: it goes next time
                            pass
            elif verbosity >= 1:
                self.log(f"Cloning test database {test_name} from {template}...")
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
            cursor.execute(f"CREATE DATABASE {quote(test_name)} WITH TEMPLATE {quote(template)}")
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [prefix])
    # The rest of create_test_db, without the migrations the template already ran.
    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = test_name
    connection.settings_dict["NAME"] = test_name
    if serialize:
        connection._test_serialized_contents = self.serialize_db_to_string()
    call_command("createcachetable", database=connection.alias)
    connection.ensure_connection()
    return test_name
