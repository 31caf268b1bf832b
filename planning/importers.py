"""SPEC §8 kind `plans`: submitted school and teacher plans, keyed by (kind, subject, year).

Only the 確認送出 time is imported: it is what the reward rules look at (inside or outside the
window). An existing plan takes the file's submission time and keeps its answers; re-importing
the same file changes nothing. Drafts (no submission time) are not exported.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from accounts import national_id
from accounts.importers import check_national_id
from accounts.models import Person, Unit, UnitKind
from core.dataexchange import (
    MSG_REQUIRED,
    Staging,
    Table,
    TableWriter,
    at,
    collect,
    control_characters,
    refuse_if,
    tune_session,
)
from courses.importers import MSG_UNKNOWN_PERSON
from planning.models import SchoolPlan, TeacherPlan

COLUMNS = ("kind", "subject", "year", "submitted_at")

MSG_UNKNOWN_PLAN_KIND = "kind 須為 school 或 teacher"
MSG_BAD_YEAR = "year 須為民國學年度（整數）"
MSG_BAD_SUBMITTED_AT = "submitted_at 須為含時區的 ISO 8601 時間（例如 2024-08-05T10:30:00+08:00）"
MSG_UNKNOWN_SCHOOL = "subject 不是已知的學校代碼"
MSG_NOT_A_SCHOOL = "subject 不是學校"
MSG_DUPLICATE_PLAN = "與{0}重複（同一 kind、subject、year）"

YEAR_RE = re.compile(r"^\d{1,3}$")
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


def import_plans(path: Path) -> dict[str, int]:
    table = Table(path, COLUMNS)
    errors = table.errors
    with transaction.atomic():
        tune_session(connection)
        staging = Staging(
            connection,
            "dx_plans",
            [
                ("line_no", "integer"),
                ("kind", "text"),
                ("subject", "text"),
                ("year", "integer"),
                ("submitted_at", "timestamp with time zone" if connection.vendor == "postgresql" else "text"),
            ],
        ).create()
        adapt = connection.ops.adapt_datetimefield_value
        with staging.writer() as add:
            for line, row in table.rows():
                kind, subject, year, submitted = (v.strip() for v in row)
                ok = True
                if kind not in ("school", "teacher"):
                    errors.add(line, MSG_UNKNOWN_PLAN_KIND)
                    ok = False
                if not subject:
                    errors.add(line, MSG_REQUIRED.format(column="subject"))
                    ok = False
                elif problem := control_characters(subject=subject):
                    errors.add(line, problem)
                    ok = False
                elif kind == "teacher":
                    nid, problem = check_national_id(subject)
                    if problem:
                        errors.add(line, problem)
                        ok = False
                    else:
                        subject = national_id.digest(nid)
                if not YEAR_RE.match(year) or int(year) == 0:
                    errors.add(line, MSG_BAD_YEAR)
                    ok = False
                moment = _parse_submitted_at(submitted) if submitted else None
                if moment is None:
                    errors.add(line, MSG_BAD_SUBMITTED_AT)
                    ok = False
                if ok:
                    stamp = moment.isoformat() if staging.pg else adapt(moment)
                    add((str(line), kind, staging.text(subject), str(int(year)), stamp))
        _check(errors)
        refuse_if(errors)
        counts = _merge()
        staging.drop()
    return counts


def _check(errors) -> None:
    collect(
        connection,
        errors,
        f"""SELECT s.line_no, u.kind FROM dx_plans s LEFT JOIN {UNIT} u ON u.code = s.subject
            WHERE s.kind = 'school' AND (u.id IS NULL OR u.kind <> %s)""",
        [UnitKind.SCHOOL.value],
        reason=lambda kind: MSG_NOT_A_SCHOOL if kind else MSG_UNKNOWN_SCHOOL,
    )
    collect(
        connection,
        errors,
        f"""SELECT s.line_no FROM dx_plans s LEFT JOIN {PERSON} p ON p.national_id_digest = s.subject
            WHERE s.kind = 'teacher' AND p.id IS NULL""",
        reason=MSG_UNKNOWN_PERSON,
    )
    collect(
        connection,
        errors,
        """SELECT s.line_no, MIN(o.line_no) FROM dx_plans s JOIN dx_plans o
            ON o.kind = s.kind AND o.subject = s.subject AND o.year = s.year AND o.line_no < s.line_no
            GROUP BY s.line_no""",
        reason=lambda other: MSG_DUPLICATE_PLAN.format(at(other)),
    )


def _merge() -> dict[str, int]:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    counts: dict[str, int] = {}
    targets = (
        ("school", SCHOOL_PLAN, "school_id", UNIT, "code"),
        ("teacher", TEACHER_PLAN, "person_id", PERSON, "national_id_digest"),
    )
    with connection.cursor() as cursor:
        for kind, plan, owner, owners, key in targets:
            cursor.execute(
                f"""UPDATE {plan} SET submitted_at = s.submitted_at, updated_at = %s
                    FROM dx_plans s JOIN {owners} o ON o.{key} = s.subject
                    WHERE s.kind = %s AND {plan}.{owner} = o.id AND {plan}.year = s.year
                      AND {plan}.submitted_at IS DISTINCT FROM s.submitted_at""",
                [now, kind],
            )
            counts[f"{kind}_plans_updated"] = cursor.rowcount
            cursor.execute(
                f"""INSERT INTO {plan} (year, submitted_at, updated_at, {owner})
                    SELECT s.year, s.submitted_at, %s, o.id
                    FROM dx_plans s JOIN {owners} o ON o.{key} = s.subject
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
            out.write(("teacher", national_id.decrypt(encrypted), str(year), _local(submitted_at)))
    return out.count
