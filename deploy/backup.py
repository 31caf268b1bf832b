"""`make backup` and `make restore` (docs/operations.md "Backups").

    python -m deploy.backup backup [--out DIR]      → DIR/inservice-<UTC time>/
    python -m deploy.backup restore DIR/inservice-<UTC time>

A backup is a folder of three files: `database.dump` (pg_dump, custom format), `media.tar.gz`
(the media root without its transient folder: files that carry national IDs are never in a
backup) and `manifest.json` (what, when, SHA-256 of both). The database is DATABASE_URL and the
media root settings.MEDIA_ROOT (DJANGO_MEDIA_ROOT), read from the same environment as the
application's. The national-ID keys are NOT in it: keep them offline (docs/operations.md).

Restore wants an empty database (created by the operator) and an empty or missing media root;
it checks the checksums first and stops at the first error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import django
from django.conf import settings

DUMP, MEDIA, MANIFEST = "database.dump", "media.tar.gz", "manifest.json"


class BackupError(RuntimeError):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise BackupError("DATABASE_URL must name the PostgreSQL database (SQLite: copy db.sqlite3)")
    return url


def backup(out: Path) -> Path:
    media_root = Path(settings.MEDIA_ROOT)
    transient = Path(settings.TRANSIENT_ROOT)
    target = Path(out) / f"inservice-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    target.mkdir(parents=True)
    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target / DUMP),
            _database_url(),
        ],
        check=True,
    )
    skipped = []

    def leave_out_transient(info: tarfile.TarInfo):
        path = media_root / info.name
        if path == transient or transient in path.parents:
            skipped.append(info.name)
            return None
        return info

    with tarfile.open(target / MEDIA, "w:gz") as archive:
        if media_root.is_dir():
            for child in sorted(media_root.iterdir()):
                archive.add(child, arcname=child.name, filter=leave_out_transient)
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "database": {"file": DUMP, "format": "pg_dump custom", "sha256": _sha256(target / DUMP)},
        "media": {"file": MEDIA, "sha256": _sha256(target / MEDIA), "left_out": "transient/ (national IDs)"},
        "not_included": "the national-ID keys and the .env secrets: kept offline (docs/operations.md)",
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return target


def restore(source: Path) -> None:
    source = Path(source)
    manifest = json.loads((source / MANIFEST).read_text())
    for part in ("database", "media"):
        if _sha256(source / manifest[part]["file"]) != manifest[part]["sha256"]:
            raise BackupError(f"{manifest[part]['file']}: checksum differs from the manifest; not restored")
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir() and any(media_root.iterdir()):
        raise BackupError(f"the media root {media_root} is not empty; restore into an empty one")
    subprocess.run(
        [
            "pg_restore",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--dbname",
            _database_url(),
            str(source / DUMP),
        ],
        check=True,
    )
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA, "r:gz") as archive:
        archive.extractall(media_root, filter="data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup")
    make.add_argument("--out", type=Path, default=Path(os.environ.get("BACKUP_DIR", "backups")))
    back = commands.add_parser("restore")
    back.add_argument("source", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inservice.settings")
    django.setup()
    try:
        if args.command == "backup":
            print(backup(args.out))
        else:
            restore(args.source)
            print(f"restored {args.source} into the database of DATABASE_URL and {settings.MEDIA_ROOT}")
    except (BackupError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
