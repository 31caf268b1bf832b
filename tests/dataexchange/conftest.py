"""Helpers for the data-exchange tests: write input files, run the commands, count what exists."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Person, Unit, User
from core import dataexchange
from courses.models import Course, IssuedHours
from planning.models import SchoolPlan, TeacherPlan
from teachers.models import Membership, Subject

HEADERS = {
    "units": ["code", "name", "kind", "stage", "authority_code"],
    "roster": [
        "national_id",
        "name",
        "email",
        "unit_code",
        "category",
        "title",
        "subjects",
        "start_date",
        "end_date",
    ],
    "hours": ["national_id", "course_code", "course_title", "organiser_code", "date", "hours"],
    "plans": ["kind", "subject", "year", "submitted_at"],
}


def write_csv(path: Path, header, rows, *, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header, rows) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


class Result:
    def __init__(self, stdout: str, stderr: str, error: str | None):
        self.stdout, self.stderr, self.error = stdout, stderr, error

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()


def run(command: str, *args) -> Result:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *[str(a) for a in args], stdout=out, stderr=err)
    except CommandError as exc:
        return Result(out.getvalue(), err.getvalue(), str(exc))
    return Result(out.getvalue(), err.getvalue(), None)


def snapshot() -> dict[str, int]:
    """Row counts of every table an import writes."""
    return {
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "subjects": Subject.objects.count(),
        "membership_subjects": Membership.subjects.through.objects.count(),
        "courses": Course.objects.count(),
        "hours": IssuedHours.objects.count(),
        "school_plans": SchoolPlan.objects.count(),
        "teacher_plans": TeacherPlan.objects.count(),
    }


@pytest.fixture
def csv_file(tmp_path):
    """csv_file(kind, rows, header=None, name=None, encoding='utf-8') → path of a written file."""

    def make(kind, rows, *, header=None, name=None, encoding="utf-8"):
        path = tmp_path / (name or f"{kind}.csv")
        return write_csv(path, HEADERS[kind] if header is None else header, rows, encoding=encoding)

    return make


@pytest.fixture
def refused():
    """Run an import that must be refused: nothing written, exit non-zero, the errors returned."""

    def check(kind, path) -> list[str]:
        before = snapshot()
        result = run("import_data", kind, path)
        assert result.error is not None, result.stdout
        assert result.error.startswith("匯入失敗：共 ")
        assert snapshot() == before
        return result.lines

    return check


def imported(kind: str, path, *, bulk: bool = False) -> dataexchange.ImportResult:
    """Import through the engine's entry point (what a command, a task and an upload call)."""
    return dataexchange.import_file(kind, path, bulk=bulk)


def phase_names(result: dataexchange.ImportResult) -> list[str]:
    return [name for name, _seconds in result.phases]


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="COPY and the --bulk path (keys and indexes dropped and rebuilt) exist only on PostgreSQL",
)


def constraints_and_indexes(*models) -> list[tuple]:
    """Every constraint and index of the models' tables, to show a bulk load put each one back."""
    found = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            for name, c in connection.introspection.get_constraints(cursor, table).items():
                found.append((table, name, tuple(c["columns"]), bool(c["unique"]), bool(c["foreign_key"])))
    return sorted(found)
