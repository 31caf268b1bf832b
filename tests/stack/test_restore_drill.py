"""The restore drill (issue 21 point 3): seed a rehearsed stack, run the journeys, `make backup`
as a one-off of the web service, restore into a fresh database and a fresh media root, start the
stack on the restored copy (with the same .env: the keys kept offline) and pass the journeys
again; what was made before the backup is there, the national-ID files are not."""

import json
import tarfile

import pytest

from deploy import journey, rehearse
from deploy.stack import Stack
from tests.stack.test_rehearsal import services_or_skip

pytestmark = pytest.mark.integration


def test_a_backup_restored_into_a_fresh_database_and_media_root_passes_the_journeys(tmp_path):
    database_url, redis_url = services_or_skip()
    backups = tmp_path / "backups"
    with rehearse.rehearsal(database_url, redis_url, tmp_path / "first") as first:
        journey.seed(first)
        made = journey.run(first.url, first.dotenv["DJANGO_ALLOWED_HOSTS"])
        pending = first.volume("media") / "transient" / "uploads" / "roster-pending.csv"
        pending.parent.mkdir(parents=True, exist_ok=True)
        pending.write_text("national_id\nA123456789\n")
        first.run("web", ["make", "backup", f"BACKUP_DIR={backups}"])
        dotenv = first.dotenv
    (backup,) = backups.iterdir()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["format"] == "pg_dump custom"
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"
    with tarfile.open(backup / "media.tar.gz") as archive:
        names = archive.getnames()
    assert any(name.startswith("announcements/") for name in names)
    assert not any(name.startswith("transient") for name in names)  # national IDs never backed up

    with rehearse.fresh_database(database_url, prefix="restored") as restored_url:
        second = Stack(tmp_path / "second", database_url=restored_url, redis_url=redis_url, dotenv=dotenv)
        with second:
            assert not any(second.volume("media").iterdir())
            second.run("web", ["make", "restore", f"BACKUP={backup}"])
            assert not (second.volume("media") / "transient").exists()
            second.up()
            host = dotenv["DJANGO_ALLOWED_HOSTS"]
            journey.check_restored(second.url, host, made)
            journey.run(second.url, host)
