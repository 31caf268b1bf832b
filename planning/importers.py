"""SPEC §8 kind `plans`: submitted school and teacher plans, keyed by (kind, subject, year).

Only the 確認送出 time is imported: it is what the reward rules look at (inside or outside the
window). An existing plan takes the file's submission time and keeps its answers; re-importing
the same file changes nothing. Drafts (no submission time) are not exported.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.utils import timezone

from accounts import national_id
from accounts.models import Person, Unit, UnitKind
from core.dataexchange import ImportRun, Kind, Table, TableWriter, at
from core.validation import Problem, check_text, problems
from planning.models import SchoolPlan, TeacherPlan

COLUMNS = ("kind", "subject", "year", "submitted_at")
COUNT_LABELS = {
    "school_plans_updated": "更新學校計畫",
    "school_plans_created": "新增學校計畫",
    "teacher_plans_updated": "更新教師計畫",
    "teacher_plans_created": "新增教師計畫",
}

MSG_UNKNOWN_PLAN_KIND = "kind 須為 school 或 teacher"
MSG_BAD_YEAR = "year 須為民國學年度（整數）"
MSG_BAD_SUBMITTED_AT = "submitted_at 須為含時區的 ISO 8601 時間（例如 2024-08-05T10:30:00+08:00）"
MSG_UNKNOWN_SCHOOL = "subject 不是已知的學校代碼"
MSG_NOT_A_SCHOOL = "subject 不是學校"
MSG_DUPLICATE_PLAN = "與{0}重複（同一 kind、subject、year）"

YEAR_RE = re.compile(r"^\d{1,3}$")
SUBJECT_LENGTH = 64  # a unit code, or a national ID (kept as its digest in the staging table)
PERSON = Person._meta.db_table
UNIT = Unit._meta.db_table
SCHOOL_PLAN = SchoolPlan._meta.db_table
TEACHER_PLAN = TeacherPlan._meta.db_table


def _parse_submitted_at(value: str) -> dt.datetime | None:
    if "T" not in value and " " not in value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or not 1900 <= moment.year <= 2200:
        # Out of that range it is a typing slip; near year 1 or 9999 it cannot even be
        # converted to UTC, or stored and read back.
        return None
    return moment


def check_row(values: list[str], unescape=str) -> tuple | list[Problem]:
    """One plans row: (kind, subject, year, moment), or the list of its problems.

    A teacher plan's subject comes back as the national ID's digest, the key the merge joins on.
    """
    kind, subject, year, submitted = (v.strip() for v in values)
    subject = check_text(unescape(subject), "subject", SUBJECT_LENGTH)
    if kind not in ("school", "teacher"):
        kind = Problem(MSG_UNKNOWN_PLAN_KIND)
    elif kind == "teacher" and subject.__class__ is str:
        subject = national_id.check(subject)
        if subject.__class__ is str:
            subject = national_id.digest(subject)
    year = int(year) if YEAR_RE.match(year) and int(year) else Problem(MSG_BAD_YEAR)
    moment = (_parse_submitted_at(submitted) if submitted else None) or Problem(MSG_BAD_SUBMITTED_AT)
    row = (kind, subject, year, moment)
    return problems(*row) or row


def import_plans(run: ImportRun, table: Table) -> dict[str, int]:
    errors = run.errors
    staging = run.staging(
        "rows",
        [
            ("line_no", "integer"),
            ("kind", "text"),
            ("subject", "text"),
            ("year", "integer"),
            ("submitted_at", "timestamp with time zone" if run.pg else "text"),
        ],
    )
    adapt = run.connection.ops.adapt_datetimefield_value
    with staging.writer() as add:
        for line, values in table.rows():
            row = check_row(values, table.unescape)
            if row.__class__ is list:
                errors.add_all(line, row)
                continue
            kind, subject, year, moment = row
            stamp = moment.isoformat() if staging.pg else adapt(moment)
            add((str(line), kind, staging.text(subject), str(year), stamp))
    _check(run, staging.name)
    run.refuse_if_errors()
    return _merge(run, staging.name)


def _check(run: ImportRun, rows: str) -> None:
    run.collect(
        f"""SELECT s.line_no, u.kind FROM {rows} s LEFT JOIN {UNIT} u ON u.code = s.subject
            WHERE s.kind = 'school' AND (u.id IS NULL OR u.kind <> %s)""",
        [UnitKind.SCHOOL.value],
        reason=lambda kind: MSG_NOT_A_SCHOOL if kind else MSG_UNKNOWN_SCHOOL,
    )
    run.collect(
        f"""SELECT s.line_no FROM {rows} s LEFT JOIN {PERSON} p ON p.national_id_digest = s.subject
            WHERE s.kind = 'teacher' AND p.id IS NULL""",
        reason=national_id.MSG_UNKNOWN_PERSON,
    )
    run.collect(
        f"""SELECT s.line_no, MIN(o.line_no) FROM {rows} s JOIN {rows} o
            ON o.kind = s.kind AND o.subject = s.subject AND o.year = s.year AND o.line_no < s.line_no
            GROUP BY s.line_no""",
        reason=lambda other: MSG_DUPLICATE_PLAN.format(at(other)),
    )


def _merge(run: ImportRun, rows: str) -> dict[str, int]:
    now = run.connection.ops.adapt_datetimefield_value(timezone.now())
    counts: dict[str, int] = {}
    targets = (
        ("school", SCHOOL_PLAN, "school_id", UNIT, "code"),
        ("teacher", TEACHER_PLAN, "person_id", PERSON, "national_id_digest"),
    )
    with run.connection.cursor() as cursor:
        for kind, plan, owner, owners, key in targets:
            cursor.execute(
                f"""UPDATE {plan} SET submitted_at = s.submitted_at, updated_at = %s
                    FROM {rows} s JOIN {owners} o ON o.{key} = s.subject
                    WHERE s.kind = %s AND {plan}.{owner} = o.id AND {plan}.year = s.year
                      AND {plan}.submitted_at IS DISTINCT FROM s.submitted_at""",
                [now, kind],
            )
            counts[f"{kind}_plans_updated"] = cursor.rowcount
            cursor.execute(
                f"""INSERT INTO {plan} (year, submitted_at, updated_at, {owner})
                    SELECT s.year, s.submitted_at, %s, o.id
                    FROM {rows} s JOIN {owners} o ON o.{key} = s.subject
                    WHERE s.kind = %s AND NOT EXISTS (
                        SELECT 1 FROM {plan} p WHERE p.{owner} = o.id AND p.year = s.year)""",
                [now, kind],
            )
            counts[f"{kind}_plans_created"] = cursor.rowcount
    return counts


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).isoformat()


def export_plans(path: Path) -> int:
    with TableWriter(path, COLUMNS) as out:
        schools = (
            SchoolPlan.objects.filter(submitted_at__isnull=False)
            .order_by("school__code", "year")
            .values_list("school__code", "year", "submitted_at")
        )
        for code, year, submitted_at in schools.iterator(chunk_size=5000):
            out.write(("school", code, str(year), _local(submitted_at)))
        teachers = (
            TeacherPlan.objects.filter(submitted_at__isnull=False)
            .order_by("person_id", "year")
            .values_list("person__national_id_encrypted", "year", "submitted_at")
        )
        for encrypted, year, submitted_at in teachers.iterator(chunk_size=5000):
            out.write(
                (
                    "teacher",
                    national_id.reveal(encrypted, to=national_id.DATA_EXCHANGE_EXPORT),
                    str(year),
                    _local(submitted_at),
                )
            )
    return out.count


KIND = Kind(
    name="plans",
    label="進修規劃",
    columns=COLUMNS,
    import_rows=import_plans,
    export=export_plans,
    count_labels=COUNT_LABELS,
    order=40,
    changed_tables=(SCHOOL_PLAN, TEACHER_PLAN),
)
