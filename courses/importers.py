"""SPEC §8 kind `hours`: issued hours, keyed by (person, course code, date), at national scale.

Four million rows a year: the Python pass keeps per-row work to dictionary look-ups (national
IDs, dates and hour values repeat, so each distinct value is checked, and each national ID
hashed, once) and streams the rows into a staging table with COPY; the database then merges
with one set-based INSERT. Decisions:
- The person must exist (import the roster first); an unknown national ID is a row error.
- A course named for the first time is created from its first row: confirmed (名單確認通過),
  organised by organiser_code, dated by its first and last hour record, so its hours count
  everywhere hours count. Every row of one course must repeat the same title and organiser.
  An existing course keeps its title; a different organiser is a row error.
- An existing record (same person, course, date) takes the file's hours; re-importing the
  same file changes nothing. The same key twice in one file with different hours is an error.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import national_id
from accounts.models import Person, Unit, UnitKind
from core.dataexchange import (
    FORMULA_ESCAPED_RE,
    MSG_LOST_ZEROS,
    WHITESPACE,
    CopiedRows,
    ImportRun,
    Kind,
    LeadingZeros,
    Staging,
    Table,
    TableWriter,
    at,
    check_date,
    copy_csv,
    parse_decimal,
    secondary_indexes_dropped,
)
from core.validation import MSG_REQUIRED, Problem, check_text, problems
from courses.models import Course, CourseStatus, HoursSource, IssuedHours

COLUMNS = ("national_id", "course_code", "course_title", "organiser_code", "date", "hours")

COUNT_LABELS = {
    "courses_created": "新增課程",
    "hours_created": "新增時數紀錄",
    "hours_updated": "更新時數紀錄",
}
PHASE_READ = "讀取與暫存"
PHASE_CHECK = "檢查"
PHASE_COURSES = "新增課程"
PHASE_HOURS = "寫入時數"
PHASE_HOURS_BULK = "寫入時數（--bulk：重建索引與外鍵）"

MSG_UNKNOWN_PERSON = national_id.MSG_UNKNOWN_PERSON
MSG_UNKNOWN_ORGANISER = "organiser_code 不是已知的單位"
MSG_HOURS_NOT_NUMBER = "hours 須為數字"
MSG_HOURS_NEGATIVE = "hours 不可為負數"
MSG_HOURS_PRECISION = "hours 最多一位小數"
MSG_HOURS_TOO_LARGE = "hours 超過 99999.9"
MSG_COURSE_DIFFERS_FROM_LINE = "同一 course_code 的 course_title 或 organiser_code 與{0}不同"
MSG_COURSE_ORGANISER_DIFFERS = "course_code 已存在，但 organiser_code 不同"
MSG_CONFLICTING_DUPLICATE = "同一人、同一課程、同一 date 在檔案中出現多次且 hours 不同"

PERSON = Person._meta.db_table
COURSE = Course._meta.db_table
HOURS = IssuedHours._meta.db_table
UNIT = Unit._meta.db_table
MAX_HOURS = Decimal("99999.9")
CODE_LENGTH = Course._meta.get_field("code").max_length
TITLE_LENGTH = Course._meta.get_field("title").max_length
UNIT_CODE_LENGTH = Unit._meta.get_field("code").max_length


class _Course:
    """A course as the file names it: from its first row, with the span of its hour records."""

    __slots__ = (
        "line",
        "code",
        "staged_code",
        "title",
        "organiser_code",
        "organiser_id",
        "error",
        "first",
        "last",
        "tenths",
    )

    def __init__(self, line, code, title, organiser_code, organiser_id, error, staged_code):
        self.line, self.code, self.title = line, code, title
        self.staged_code = staged_code  # as the staging table takes it: escaped once, written per row
        self.organiser_code, self.organiser_id, self.error = organiser_code, organiser_id, error
        self.first = self.last = None
        self.tenths = 0  # the largest hours of its rows, in tenths (ints compare faster than Decimals)


def _check_hours(value: str) -> tuple[str, int] | Problem:
    """(normalised text, value in tenths), or the problem."""
    value = value.strip()
    if not value:
        return Problem(MSG_REQUIRED.format(column="hours"))
    number = parse_decimal(value)
    if number is None:
        return Problem(MSG_HOURS_NOT_NUMBER)
    if number < 0:
        return Problem(MSG_HOURS_NEGATIVE)
    if number > MAX_HOURS:  # before quantize(), which cannot hold a number as large as 1e30
        return Problem(MSG_HOURS_TOO_LARGE)
    if number != number.quantize(Decimal("0.1")):
        return Problem(MSG_HOURS_PRECISION)
    number = number.quantize(Decimal("0.1"))
    return str(number), int(number * 10)


def _check_date(value: str) -> str | Problem:
    """ISO text of the date, or the problem."""
    day = check_date(value.strip(), "date")
    return day if day.__class__ is Problem else day.isoformat()


def _check_person(value: str, person_by_digest: dict[str, str]) -> str | Problem:
    """The person id (as text) a national ID names, or the problem."""
    nid = national_id.check(value)
    if nid.__class__ is Problem:
        return nid
    return person_by_digest.get(national_id.digest(nid)) or Problem(MSG_UNKNOWN_PERSON)


def _stage_checked(table, raws, check, *, stored=None, into: dict | None = None) -> bool:
    """Each distinct raw value of the copied file checked once into its map table: (raw, the
    checked value or `stored` of it, null) when good, (raw, null, the problem) when refused; the
    good ones also into `into` (raw → checked value). Returns whether any value was refused."""
    text, null = table.text, table.null
    refused = False
    with table.writer() as add:
        for raw in raws:
            value = check(raw)
            if value.__class__ is Problem:
                refused = True
                add((text(raw), null, text(str(value))))
            else:
                add((text(raw), value if stored is None else stored(value), null))
                if into is not None:
                    into[raw] = value
    return refused


def import_hours(run: ImportRun, table: Table) -> dict[str, int]:
    errors = run.errors
    with run.phase(PHASE_READ):
        copied = copy_csv(run, table)
        if copied is not None:
            # A national .csv: its rows went straight into a staging table; each distinct value
            # is checked once, and the rows are checked and merged by set-based SQL.
            staging, course_staging = _check_copied(run, copied)
        else:
            staging = run.staging(
                "rows",
                [
                    ("line_no", "integer"),
                    ("person_id", "bigint"),
                    ("course_code", "text"),
                    ("date", "date"),
                    ("hours", "numeric(6,1)"),
                ],
            )
            courses = _stream(table, staging, errors)
            course_staging = _stage_courses(run, courses)
            del courses
    with run.phase(PHASE_CHECK):
        _check(run, staging, course_staging)
        if errors:
            # A good file meets its repeats in the merge, where they cost nothing; a file
            # refused anyway lists them now, so that one pass shows every bad row.
            _check_conflicting_duplicates(run, staging)
    run.refuse_if_errors()
    return _merge(run, staging, course_staging)


def _lookups(connection) -> tuple[dict[str, str], dict[str, int], LeadingZeros]:
    """Every person's id by digest (national IDs resolved without a query per row), every unit's
    id by code, and the known codes a spreadsheet may have stripped of their leading zeros."""
    with connection.chunked_cursor() as cursor:  # server-side: 200,000 rows not held whole in libpq
        cursor.execute(f"SELECT national_id_digest, id FROM {PERSON}")
        person_by_digest: dict[str, str] = {}
        while rows := cursor.fetchmany(10000):
            person_by_digest.update((d, str(i)) for d, i in rows)
    unit_by_code = dict(Unit.objects.values_list("code", "id"))
    return person_by_digest, unit_by_code, LeadingZeros(unit_by_code)


def _stream(table: Table, staging: Staging, errors) -> dict[str, _Course]:
    person_by_digest, unit_by_code, zeros = _lookups(staging.connection)

    # Each distinct raw value is checked once: raw text → value or Problem.
    people: dict[str, str | Problem] = {}  # national ID → person id text
    dates: dict[str, str | Problem] = {}
    hour_values: dict[str, tuple[str, int] | Problem] = {}
    courses: dict[str, _Course] = {}  # normalised code → course
    course_by_raw: dict[tuple[str, str, str], _Course | Problem] = {}
    unescape = table.unescape
    with staging.writer() as add:
        for line, row in table.rows():
            raw_nid, raw_code, raw_title, raw_org, raw_day, raw_hours = row
            # Each field's check runs once per distinct raw value: a value or a Problem.
            person = people.get(raw_nid)
            if person is None:
                person = people[raw_nid] = _check_person(raw_nid, person_by_digest)
            key = (raw_code, raw_title, raw_org)
            course = course_by_raw.get(key)
            if course is None:
                course = course_by_raw[key] = _resolve_course(
                    line, *(unescape(v.strip()) for v in key), courses, unit_by_code, zeros, staging.text
                )
            day = dates.get(raw_day)
            if day is None:
                day = dates[raw_day] = _check_date(raw_day)
            value = hour_values.get(raw_hours)
            if value is None:
                value = hour_values[raw_hours] = _check_hours(raw_hours)

            if (
                person.__class__ is Problem
                or course.__class__ is Problem
                or course.error
                or day.__class__ is Problem
                or value.__class__ is Problem
            ):
                # The row's problems, in column order (a course may carry its own error).
                own = course if course.__class__ is Problem else course.error
                errors.add_all(line, problems(person, own, day, value))
                continue
            add((str(line), person, course.staged_code, day, value[0]))
            if course.first is None or day < course.first:
                course.first = day
            if course.last is None or day > course.last:
                course.last = day
            if value[1] > course.tenths:
                course.tenths = value[1]
    return courses


class _Rows:
    """The good rows of a copied file, as the checks and the merge read a staging table."""

    def __init__(self, name: str, count: int):
        self.name, self.count = name, count


def _check_copied(run: ImportRun, copied: CopiedRows) -> tuple[_Rows, _Rows]:
    """The row-by-row path's checks, run once per distinct value of the copied rows.

    One scan gives every distinct national ID, date and hours value, and every distinct
    (course_code, course_title, organiser_code) with its first line; the courses are resolved in
    the order the file names them, as `_stream` resolves them. Each result goes to a small map
    table (value → checked value or its problem), and the file's rows are the join of the copy
    with the maps: a view, so that the four million rows are written once, by the merge.
    """
    connection = run.connection
    errors = run.errors
    raw = copied.name
    person_by_digest, unit_by_code, zeros = _lookups(connection)
    nids, days, values, triples, code_days, code_values = [], [], [], [], [], []
    with connection.cursor() as cursor:
        # The planner takes the three columns of a course as independent and expects a handful
        # of rows from the join of millions with the maps, then loops over a table per row (the
        # courses just created, whose statistics say empty: 13 s for 400,000 rows). Every join of
        # this import is a hash join of the rows with a small table.
        cursor.execute("SET LOCAL enable_nestloop = off")
        # Read through a server-side cursor below, planned for all its rows (not the first tenth).
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
    # A server-side cursor: at national scale the scan gives some 800,000 rows, which a client-side
    # result would hold whole in libpq (160 MB) while the lists are built from it.
    with connection.chunked_cursor() as cursor:
        # GROUPING(c0, c4, c5, c1): 7 for the national ID, 11 the date, 13 the hours, 14 a course,
        # 10 a course code's date, 12 a course code's hours (to date the courses of a good file).
        cursor.execute(
            f"""SELECT GROUPING(c0, c4, c5, c1), c0, c4, c5, c1, c2, c3, MIN(line_no) FROM {raw}
                GROUP BY GROUPING SETS ((c0), (c4), (c5), (c1, c2, c3), (c1, c4), (c1, c5))"""
        )
        for grouping, nid, day, hours, code, title, organiser, line in _fetched(cursor):
            if grouping == 7:
                nids.append(nid)
            elif grouping == 11:
                days.append(day)
            elif grouping == 13:
                values.append(hours)
            elif grouping == 14:
                triples.append((line, code, title, organiser))
            elif grouping == 10:
                code_days.append((code, day))
            else:
                code_values.append((code, hours))
    bad = False

    people = run.staging("people", [("raw", "text"), ("person_id", "bigint"), ("problem", "text")])
    text, null = people.text, people.null
    bad |= _stage_checked(people, nids, functools.partial(_check_person, person_by_digest=person_by_digest))
    del nids, person_by_digest
    dates = run.staging("dates", [("raw", "text"), ("day", "date"), ("problem", "text")])
    day_of: dict[str, str] = {}
    bad |= _stage_checked(dates, days, _check_date, into=day_of)
    hour_values = run.staging("values", [("raw", "text"), ("value", "numeric(6,1)"), ("problem", "text")])
    hours_of: dict[str, tuple] = {}  # raw → (value, tenths)
    bad |= _stage_checked(hour_values, values, _check_hours, stored=lambda value: value[0], into=hours_of)
    course_map = run.staging(
        "course_map",
        [("code_raw", "text"), ("title_raw", "text"), ("organiser_raw", "text"), ("code", "text"),
         ("problem", "text")],
    )  # fmt: skip
    courses: dict[str, _Course] = {}
    course_of: dict[str, _Course] = {}  # raw course_code → its course (all of a good file's rows are good)
    unescape = _unescape_csv
    with course_map.writer() as add:
        for line, *key in sorted(triples):
            course = _resolve_course(
                line, *(unescape(v.strip()) for v in key), courses, unit_by_code, zeros, text
            )
            own = course if course.__class__ is Problem else course.error
            cells = [text(v) for v in key]
            if own is not None:
                bad = True
                add((*cells, null, text(str(own))))
            else:
                add((*cells, course.staged_code, null))
                course_of[key[0]] = course
    del triples
    if not bad:
        # Every row is good: the courses are dated from the distinct (code, date) and (code, hours)
        # pairs, the rows are the join of the copy with the maps by course_code alone, every
        # course of the file is staged, and the rows are as many as the copy's.
        for code, raw_day in code_days:
            course, day = course_of[code], day_of[raw_day]
            if course.first is None or day < course.first:
                course.first = day
            if course.last is None or day > course.last:
                course.last = day
        for code, raw_hours in code_values:
            course = course_of[code]
            course.tenths = max(course.tenths, hours_of[raw_hours][1])
        course_staging = _stage_courses(run, courses)
        codes = run.staging("codes", [("raw", "text"), ("code", "text")])
        with codes.writer() as add:
            for code, course in course_of.items():
                add((text(code), course.staged_code))
        rows = run.create_view(
            "rows",
            f"""SELECT r.line_no, p.person_id, k.code AS course_code, d.day AS date, h.value AS hours
                FROM {raw} r JOIN {people.name} p ON p.raw = r.c0 JOIN {codes.name} k ON k.raw = r.c1
                JOIN {dates.name} d ON d.raw = r.c4 JOIN {hour_values.name} h ON h.raw = r.c5""",
        )
        return _Rows(rows, copied.count), course_staging
    del code_days, code_values, course_of, day_of, hours_of
    definitions = run.staging(
        "course_definitions", [("code", "text"), ("title", "text"), ("organiser_id", "bigint")]
    )
    with definitions.writer() as add:
        for c in courses.values():
            if c.error is None:
                add((c.staged_code, text(c.title), str(c.organiser_id)))
    del courses

    joins = f"""FROM {raw} r JOIN {people.name} p ON p.raw = r.c0
                JOIN {course_map.name} t ON t.code_raw = r.c1 AND t.title_raw = r.c2
                                        AND t.organiser_raw = r.c3
                JOIN {dates.name} d ON d.raw = r.c4 JOIN {hour_values.name} h ON h.raw = r.c5"""
    if bad:
        # Some distinct value is wrong: every row holding one, its problems in column order (a row
        # of blank cells is no row, as Table.rows() skips it).
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT r.line_no, p.problem, t.problem, d.problem, h.problem {joins}
                    WHERE (p.problem IS NOT NULL OR t.problem IS NOT NULL OR d.problem IS NOT NULL
                           OR h.problem IS NOT NULL) AND {copied.not_blank("r")}""",
                [WHITESPACE],
            )
            while chunk := cursor.fetchmany(2000):
                for line, *found in chunk:
                    for problem in found:
                        if problem is not None:
                            errors.add(line, problem)
    rows = run.create_view(
        "rows",
        f"""SELECT r.line_no, p.person_id, t.code AS course_code, d.day AS date, h.value AS hours
            {joins}
            WHERE p.person_id IS NOT NULL AND t.code IS NOT NULL AND d.day IS NOT NULL
              AND h.value IS NOT NULL""",
    )
    # A course is dated by its first and last hour record and takes the largest hours of its rows.
    course_staging = run.create_table_as(
        "courses",
        f"""SELECT d.code, d.title, d.organiser_id, a.start_date, a.end_date, a.hours, a.rows
            FROM {definitions.name} d JOIN (
                SELECT course_code, MIN(date) AS start_date, MAX(date) AS end_date,
                       MAX(hours) AS hours, COUNT(*) AS rows
                FROM {rows} GROUP BY course_code
            ) a ON a.course_code = d.code""",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(rows), 0) FROM {course_staging}")
        (count,) = cursor.fetchone()
    return _Rows(rows, int(count)), _Rows(course_staging, 0)


def _fetched(cursor, size: int = 10000):
    """A query's rows, a chunk at a time (no list of every row held beside the lists built)."""
    while chunk := cursor.fetchmany(size):
        yield from chunk


def _unescape_csv(value: str) -> str:
    """Table.unescape for a .csv: undoes TableWriter's formula guard."""
    if value[:1] == "'" and FORMULA_ESCAPED_RE.match(value):
        return value[1:]
    return value


def _resolve_course(
    line, code, title, organiser_code, courses, unit_by_code, zeros, escape
) -> _Course | Problem:
    """The course a (code, title, organiser) triple names, or the problem with the triple.

    A course whose own title or organiser is wrong is returned with its `error`, so that every
    row of it is reported with the same words.
    """
    code = check_text(code, "course_code", CODE_LENGTH)
    if code.__class__ is Problem:
        return code
    known = courses.get(code)
    if known is not None:
        if (known.title, known.organiser_code) != (title, organiser_code):
            return Problem(MSG_COURSE_DIFFERS_FROM_LINE.format(at(known.line)))
        return known
    error = None
    checked_title = check_text(title, "course_title", TITLE_LENGTH)
    checked_organiser = check_text(organiser_code, "organiser_code", UNIT_CODE_LENGTH)
    if checked_title.__class__ is Problem:
        error = checked_title
    elif checked_organiser.__class__ is Problem:
        error = checked_organiser
    elif organiser_code not in unit_by_code:
        error = zeros.problem("organiser_code", organiser_code) or Problem(MSG_UNKNOWN_ORGANISER)
    course = _Course(line, code, title, organiser_code, unit_by_code.get(organiser_code), error, escape(code))
    courses[code] = course
    return course


def _stage_courses(run: ImportRun, courses: dict[str, _Course]) -> Staging:
    staging = run.staging(
        "courses",
        [
            ("code", "text"),
            ("title", "text"),
            ("organiser_id", "bigint"),
            ("start_date", "date"),
            ("end_date", "date"),
            ("hours", "numeric(6,1)"),
        ],
    )
    text = staging.text
    with staging.writer() as add:
        for c in courses.values():
            if c.error is None and c.first is not None:
                hours = f"{c.tenths // 10}.{c.tenths % 10}"
                add((c.staged_code, text(c.title), str(c.organiser_id), c.first, c.last, hours))
    return staging


def _check(run: ImportRun, staging: Staging, course_staging: Staging) -> None:
    with run.connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT d.code FROM {course_staging.name} d JOIN {COURSE} c ON c.code = d.code
                WHERE c.organiser_id <> d.organiser_id"""
        )
        clashes = [code for (code,) in cursor.fetchall()]
    for start in range(0, len(clashes), 500):
        chunk = clashes[start : start + 500]
        run.collect(
            f"SELECT line_no FROM {staging.name} WHERE course_code IN ({', '.join(['%s'] * len(chunk))})",
            chunk,
            reason=MSG_COURSE_ORGANISER_DIFFERS,
        )
    # A new course code that is an existing one without its leading zeros: a spreadsheet's copy.
    with run.connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT d.code, MIN(c.code) FROM {course_staging.name} d
                JOIN {COURSE} c ON c.code LIKE %s AND ltrim(c.code, '0') = d.code
                WHERE d.code NOT LIKE %s AND NOT EXISTS (SELECT 1 FROM {COURSE} e WHERE e.code = d.code)
                GROUP BY d.code""",
            ["0%", "0%"],
        )
        stripped = dict(cursor.fetchall())
    codes = list(stripped)
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        run.collect(
            f"""SELECT line_no, course_code FROM {staging.name}
                WHERE course_code IN ({", ".join(["%s"] * len(chunk))})""",
            chunk,
            reason=lambda code: MSG_LOST_ZEROS.format(column="course_code", code=code, known=stripped[code]),
        )


def _check_conflicting_duplicates(run: ImportRun, staging: Staging) -> None:
    """The same (person, course, date) twice in the file with different hours: every such row."""
    run.collect(
        f"""SELECT s.line_no FROM {staging.name} s JOIN (
                SELECT person_id, course_code, date FROM {staging.name}
                GROUP BY person_id, course_code, date HAVING MIN(hours) <> MAX(hours)
            ) d ON d.person_id = s.person_id AND d.course_code = s.course_code AND d.date = s.date""",
        reason=MSG_CONFLICTING_DUPLICATE,
    )


def _merge(run: ImportRun, staging: Staging, course_staging: Staging) -> dict[str, int]:
    connection = run.connection
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    counts: dict[str, int] = {}
    with connection.cursor() as cursor, run.phase(PHASE_COURSES):
        cursor.execute(
            f"""INSERT INTO {COURSE} (code, title, organiser_id, authority_id, registered_by_id, start_date,
                                      end_date, hours, place, status, created_at)
                SELECT d.code, d.title, d.organiser_id,
                       CASE WHEN u.kind = %s THEN u.id ELSE u.authority_id END,
                       NULL, d.start_date, d.end_date, d.hours, '', %s, %s
                FROM {course_staging.name} d JOIN {UNIT} u ON u.id = d.organiser_id
                WHERE NOT EXISTS (SELECT 1 FROM {COURSE} c WHERE c.code = d.code)""",
            [UnitKind.AUTHORITY.value, CourseStatus.CONFIRMED.value, stamp],
        )
        counts["courses_created"] = cursor.rowcount
    select = f"""SELECT s.person_id, c.id, s.date, s.hours, %s, %s
                 FROM {staging.name} s JOIN {COURSE} c ON c.code = s.course_code"""
    params = [HoursSource.IMPORT.value, stamp]
    inserted = None
    if run.bulk:
        # Asked for by the operator: the hours table's keys and indexes are rebuilt once.
        try:
            with transaction.atomic(), run.phase(PHASE_HOURS_BULK):
                with connection.cursor() as cursor, secondary_indexes_dropped(connection, HOURS):
                    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {HOURS})")
                    # Into an empty table, no test for records already there: planned against an
                    # empty table, that test may become a rescan of the growing table per row.
                    absent = (
                        f"""WHERE NOT EXISTS (SELECT 1 FROM {HOURS} h WHERE h.person_id = s.person_id
                                AND h.course_id = c.id AND h.date = s.date)"""
                        if cursor.fetchone()[0]
                        else ""
                    )
                    cursor.execute(
                        f"""INSERT INTO {HOURS} (person_id, course_id, date, hours, source, issued_at)
                            {select} {absent}""",
                        params,
                    )
                    inserted = cursor.rowcount
        except IntegrityError:
            inserted = None  # the same key twice in the file: the row-by-row path below sorts it out
    with connection.cursor() as cursor:
        if inserted is None:
            with run.phase(PHASE_HOURS):
                cursor.execute(
                    f"""INSERT INTO {HOURS} (person_id, course_id, date, hours, source, issued_at)
                        {select} WHERE true ON CONFLICT (person_id, course_id, date) DO NOTHING""",
                    params,
                )
                inserted = cursor.rowcount
        counts["hours_created"] = inserted
        counts["hours_updated"] = 0
        if inserted == staging.count:
            return counts
        # Some rows met a record already there (a re-import, or the same key twice in the file).
        _check_conflicting_duplicates(run, staging)
        if run.errors:
            return counts
        cursor.execute(
            f"""UPDATE {HOURS} SET hours = s.hours
                FROM {staging.name} s JOIN {COURSE} c ON c.code = s.course_code
                WHERE {HOURS}.person_id = s.person_id AND {HOURS}.course_id = c.id
                  AND {HOURS}.date = s.date AND {HOURS}.hours <> s.hours"""
        )
        counts["hours_updated"] = cursor.rowcount
    return counts


def export_hours(path: Path) -> int:
    records = IssuedHours.objects.order_by("person_id", "course_id", "date").values_list(
        "person_id",
        "person__national_id_encrypted",
        "course__code",
        "course__title",
        "course__organiser__code",
        "date",
        "hours",
    )
    last_person, last_nid = None, ""
    with TableWriter(path, COLUMNS) as out:
        for person_id, encrypted, code, title, organiser, day, hours in records.iterator(chunk_size=5000):
            if person_id != last_person:
                last_person, last_nid = (
                    person_id,
                    national_id.reveal(encrypted, to=national_id.DATA_EXCHANGE_EXPORT),
                )
            out.write((last_nid, code, title, organiser, day.isoformat(), str(hours)))
    return out.count


KIND = Kind(
    name="hours",
    label="研習時數",
    columns=COLUMNS,
    import_rows=import_hours,
    export=export_hours,
    count_labels=COUNT_LABELS,
    order=30,
    bulk_tables=(HOURS,),
    changed_tables=(COURSE, HOURS),
)
