"""SPEC §8 kind `roster`: people (by national ID) and their dated memberships (service history).

One row per membership. People are created without an account (帳號狀況 待申請). Decisions:
- A person already in the database keeps their name: a row with a different name is an error
  (shown with the masked registered name), never a silent overwrite. Their email is filled in
  only when it was blank.
- A membership is keyed by (person, unit, start_date). An existing one takes the file's category,
  title, end date and subjects (the file is the old system's record, e.g. a departure recorded
  later); re-importing the same file therefore changes nothing.
- At most one open membership (empty end_date) per person, counting the database's open
  memberships that the file does not name: a second one is a row error, not an IntegrityError.
- No two periods of one person may share a day (SPEC §3.1), within the file or against the
  database's memberships the file does not name: a row error on both back ends (PostgreSQL's
  exclusion constraint would only raise an IntegrityError).
- A school's own upload (批次上傳, `run.unit_id` set; issue 16 points 2 and 3) may change only
  people the school serves now, and create new ones: a row for a person known to the portal who
  does not serve at the school now is refused with one neutral message, whatever its name, and
  no check on that person's other data runs, so no refusal tells anything of another unit (no
  name, unit or date). Its other refusals name the row and the problem only.
- The e-mail of a new person, or one filled in, records the unit that wrote it (`email_unit`,
  teachers.trust): the uploading school, or for the operator's import the unit of the person's
  open row in the file.
- The optional `end_reason` column (離職, 轉校, 退休, 資料匯入, 更正) goes with end_date; an ended
  row without one records 資料匯入, unless the membership already holds a reason for that end date.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import national_id
from accounts.masking import mask_name
from accounts.models import Person, Unit
from core.dataexchange import (
    MSG_END_BEFORE_START,
    ImportRun,
    Kind,
    LeadingZeros,
    Table,
    TableWriter,
    at,
    check_date,
    secondary_indexes_dropped,
)
from core.validation import MSG_TOO_LONG, Problem, check_text, problems
from teachers.models import Category, EndReason, Membership, Subject

COLUMNS = (
    "national_id",
    "name",
    "email",
    "unit_code",
    "category",
    "title",
    "subjects",
    "start_date",
    "end_date",
)

COUNT_LABELS = {
    "people_created": "新增人員",
    "memberships_created": "新增服務紀錄",
    "memberships_updated": "更新服務紀錄",
}
PHASE_READ = "讀取與暫存"
PHASE_CHECK = "檢查"
PHASE_PEOPLE = "寫入人員"
PHASE_MEMBERSHIPS = "寫入服務紀錄"
PHASE_MEMBERSHIPS_BULK = "寫入服務紀錄（--bulk：重建索引與外鍵）"

MSG_BAD_EMAIL = "email 格式不正確"
MSG_UNKNOWN_CATEGORY = "category 不是有效的類別（教師或行政職員）"
MSG_UNKNOWN_UNIT = "unit_code 不是已知的單位"
MSG_NAME_DIFFERS_FROM_LINE = "同一身分證字號的 name 與{0}不同"
MSG_EMAIL_DIFFERS_FROM_LINE = "同一身分證字號的 email 與{0}不同"
MSG_NAME_DIFFERS_FROM_DATABASE = "此身分證字號已登錄為「{0}」，name 不同"
MSG_DUPLICATE_MEMBERSHIP = "與{0}重複（同一人、同一單位、同一 start_date）"
MSG_TWO_OPEN_MEMBERSHIPS = "同一人有一筆以上未結束的服務紀錄（end_date 空白）"
MSG_OVERLAP_LINE = "服務期間與{0}重疊（同一人同一天只能在一個單位服務）"
MSG_OVERLAP_DATABASE = "服務期間與已登錄的服務紀錄（{0}，{1} 起）重疊"
MSG_BAD_END_REASON = "end_reason 不是有效的異動原因（離職、轉校、退休、資料匯入或更正）"
MSG_END_REASON_WITHOUT_END = "有 end_reason 但 end_date 空白"
# A school's upload (run.unit_id): the same words for every person it may not change.
MSG_NOT_SERVED_HERE = (
    "此身分證字號的人員不在本單位目前的教師名單中，批次上傳不能變更其資料；"
    "新到職且已在本網站有資料的教師，請以「教師資料登錄」登錄"
)
MSG_NAME_DIFFERS_HERE = "name 與本單位教師名單登錄的姓名不同（如需更正姓名，請洽教師進修網）"
MSG_OVERLAP_DATABASE_HERE = "服務期間與此人員已登錄的服務紀錄重疊（同一人同一天只能在一個單位服務）"

# Optional columns of SPEC §8: read when the header names them, empty otherwise.
OPTIONAL_COLUMNS = ("end_reason",)
END_REASONS = set(EndReason.values)

CATEGORIES = set(Category.values)
SUBJECT_SPLIT = re.compile(r"\s*;\s*")

PERSON = Person._meta.db_table
UNIT = Unit._meta.db_table
MEMBERSHIP = Membership._meta.db_table
SUBJECT = Subject._meta.db_table
MEMBERSHIP_SUBJECTS = Membership.subjects.through._meta.db_table
NAME_LENGTH = Person._meta.get_field("name").max_length
EMAIL_LENGTH = Person._meta.get_field("email").max_length
CODE_LENGTH = Unit._meta.get_field("code").max_length
TITLE_LENGTH = Membership._meta.get_field("title").max_length
SUBJECT_LENGTH = Subject._meta.get_field("name").max_length


# Plain addresses (name.surname@school.edu.tw), a strict subset of what Django's EmailValidator
# accepts: a national roster has 200,000 of them and the full validator costs a tenth of the import.
# Anything else still goes through the full validator.
PLAIN_EMAIL_RE = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z"
)


def _check_email(value: str) -> str | Problem:
    value = check_text(value, "email", EMAIL_LENGTH, required=False)
    if value and value.__class__ is str and not PLAIN_EMAIL_RE.match(value):
        try:
            validate_email(value)
        except ValidationError:
            return Problem(MSG_BAD_EMAIL)
    return value


def _check_subjects(value: str) -> tuple[str, ...] | Problem:
    value = check_text(value, "subjects", required=False)
    if value.__class__ is Problem:
        return value
    names = [s for s in SUBJECT_SPLIT.split(value) if s] if value else []
    if any(len(s) > SUBJECT_LENGTH for s in names):
        return Problem(MSG_TOO_LONG.format(column="subjects", limit=SUBJECT_LENGTH))
    return tuple(dict.fromkeys(names))


def check_row(values: list[str], unescape=str) -> tuple | list[Problem]:
    """One roster row: its cleaned values, or the list of its problems."""
    return row_checker(unescape)(values)


_MISSING = object()


def row_checker(unescape=str):
    """`check_row` for one file: the checks of the columns whose values repeat from row to row
    (unit, category, title, subjects, dates) are cached by the cell's text, so a national roster
    pays them once per distinct value rather than once per row."""
    units: dict = {}
    categories: dict = {}
    titles: dict = {}
    subject_lists: dict = {}
    starts: dict = {}
    ends: dict = {}
    check_nid = national_id.check

    def check(values: list[str]) -> tuple | list[Problem]:
        nid, name, email, unit_code, category, title, subject_list, start, end = values[:9]
        unit = units.get(unit_code)
        if unit is None:
            unit = units[unit_code] = check_text(unescape(unit_code.strip()), "unit_code", CODE_LENGTH)
        kind = categories.get(category)
        if kind is None:
            kind = unescape(category.strip())
            kind = categories[category] = kind if kind in CATEGORIES else Problem(MSG_UNKNOWN_CATEGORY)
        job = titles.get(title)
        if job is None:
            job = titles[title] = check_text(unescape(title.strip()), "title", TITLE_LENGTH, required=False)
        names = subject_lists.get(subject_list)
        if names is None:
            names = subject_lists[subject_list] = _check_subjects(unescape(subject_list.strip()))
        start_date = starts.get(start)
        if start_date is None:
            start_date = starts[start] = check_date(unescape(start.strip()), "start_date")
        end_text = unescape(end.strip())
        end_date = ends.get(end, _MISSING)
        if end_date is _MISSING:
            end_date = ends[end] = check_date(end_text, "end_date", required=False)
        row = (
            check_nid(unescape(nid.strip())),
            check_text(unescape(name.strip()), "name", NAME_LENGTH),
            _check_email(unescape(email.strip())),
            unit,
            kind,
            job,
            names,
            start_date,
            end_date,
        )
        found = problems(*row)
        if not found and end_date is not None and end_date < start_date:
            found.append(Problem(MSG_END_BEFORE_START))
        end_reason = unescape(values[9].strip()) if len(values) > 9 else ""
        if end_reason and end_reason not in END_REASONS:
            found.append(Problem(MSG_BAD_END_REASON))
        elif end_reason and not end_text:
            found.append(Problem(MSG_END_REASON_WITHOUT_END))
        return found or (*row, end_reason)

    return check


def import_roster(run: ImportRun, table: Table) -> dict[str, int]:
    errors = run.errors
    roster = run.staging(
        "rows",
        [
            ("line_no", "integer"),
            ("digest", "varchar(64)"),
            ("nid_enc", "text"),
            ("name", "text"),
            ("email", "text"),
            ("unit_code", "text"),
            ("category", "text"),
            ("title", "text"),
            ("start_date", "date"),
            ("end_date", "date"),
            ("subjects", "text"),
            ("end_reason", "text"),
        ],
    )
    subject_names: set[str] = set()
    text, null = roster.text, roster.null
    check, digest, encrypt = row_checker(table.unescape), national_id.digester(), national_id.encrypter()
    # A row's subjects as the staging table holds them: ;-separated on PostgreSQL (no name holds
    # a ;, which separates them in the file too), a JSON list elsewhere; once per distinct list.
    encoded: dict[tuple[str, ...], str] = {}
    with run.phase(PHASE_READ), roster.writer() as add:
        for line, values in table.rows():
            row = check(values)
            if row.__class__ is list:
                errors.add_all(line, row)
                continue
            nid, name, email, unit_code, category, title, names, start_date, end_date, end_reason = row
            subjects_text = encoded.get(names)
            if subjects_text is None:
                subjects_text = encoded[names] = text(
                    ";".join(names) if run.pg else json.dumps(names, ensure_ascii=False)
                )
                subject_names.update(names)
            add(
                (
                    str(line),
                    digest(nid),
                    encrypt(nid),
                    text(name),
                    text(email),
                    text(unit_code),
                    category,
                    text(title),
                    start_date.isoformat(),
                    end_date.isoformat() if end_date else null,
                    subjects_text,
                    text(end_reason),
                )
            )

    rows = roster.name
    # One row per (line, subject): split the list in SQL, in each back end's dialect.
    subjects = run.create_table_as(
        "subjects",
        f"""SELECT line_no, unnest(string_to_array(subjects, ';')) AS subject
            FROM {rows} WHERE subjects <> ''"""
        if run.pg
        else f"""SELECT s.line_no, j.value AS subject FROM {rows} s, json_each(s.subjects) j
                 WHERE s.subjects <> '[]'""",
    )
    with run.connection.cursor() as cursor:
        # No index on digest: every join on it is a hash join over the whole file (a school's
        # upload is a few hundred rows), and building one cost 0.3 s at national scale.
        cursor.execute(f"CREATE INDEX {rows}_line ON {rows} (line_no)")
        cursor.execute(f"CREATE INDEX {subjects}_line ON {subjects} (line_no)")
    with run.phase(PHASE_CHECK):
        _check(run, rows)
    run.refuse_if_errors()
    return _merge(run, rows, subjects, subject_names)


def _check(run: ImportRun, rows: str) -> None:
    zeros = LeadingZeros(Unit.objects.filter(code__startswith="0").values_list("code", flat=True))
    run.collect(
        f"""SELECT s.line_no, s.unit_code FROM {rows} s LEFT JOIN {UNIT} u ON u.code = s.unit_code
            WHERE u.id IS NULL""",
        reason=lambda code: zeros.problem("unit_code", code) or MSG_UNKNOWN_UNIT,
    )
    # The people the checks against the database may look at: everyone for the operator; for a
    # school's upload only those it serves now (the others are refused, and nothing else of
    # theirs is looked at, so no message depends on another unit's data).
    outsiders = run.create_table_as(
        "outsiders",
        f"""SELECT DISTINCT s.digest FROM {rows} s JOIN {PERSON} p ON p.national_id_digest = s.digest
            WHERE NOT EXISTS (SELECT 1 FROM {MEMBERSHIP} m
                              WHERE m.person_id = p.id AND m.unit_id = %s AND m.end_date IS NULL)"""
        if run.unit_id is not None
        else f"SELECT digest FROM {rows} WHERE 1 = 0",
        [run.unit_id] if run.unit_id is not None else [],
    )
    with run.connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {outsiders}_digest ON {outsiders} (digest)")
    insider = f"NOT EXISTS (SELECT 1 FROM {outsiders} o WHERE o.digest = s.digest)"
    if run.unit_id is not None:
        run.collect(
            f"SELECT s.line_no FROM {rows} s WHERE NOT {insider}",
            reason=MSG_NOT_SERVED_HERE,
        )
        run.collect(
            f"""SELECT s.line_no FROM {rows} s
                JOIN {PERSON} p ON p.national_id_digest = s.digest WHERE p.name <> s.name AND {insider}""",
            reason=MSG_NAME_DIFFERS_HERE,
        )
    else:
        run.collect(
            f"""SELECT s.line_no, p.name FROM {rows} s
                JOIN {PERSON} p ON p.national_id_digest = s.digest WHERE p.name <> s.name""",
            reason=lambda name: MSG_NAME_DIFFERS_FROM_DATABASE.format(mask_name(name)),
        )
    first_rows = f"""(SELECT f.digest, f.line_no, f.name, f.email FROM {rows} f
        JOIN (SELECT digest, MIN(line_no) AS line_no FROM {rows} GROUP BY digest) m
        ON m.line_no = f.line_no)"""
    run.collect(
        f"""SELECT s.line_no, f.line_no FROM {rows} s JOIN {first_rows} f ON f.digest = s.digest
            WHERE s.line_no <> f.line_no AND s.name <> f.name""",
        reason=lambda other: MSG_NAME_DIFFERS_FROM_LINE.format(at(other)),
    )
    run.collect(
        f"""SELECT s.line_no, MIN(o.line_no) FROM {rows} s JOIN {rows} o
            ON o.digest = s.digest AND o.line_no < s.line_no AND o.email <> '' AND o.email <> s.email
            WHERE s.email <> '' GROUP BY s.line_no""",
        reason=lambda other: MSG_EMAIL_DIFFERS_FROM_LINE.format(at(other)),
    )
    run.collect(
        f"""SELECT s.line_no, MIN(o.line_no) FROM {rows} s JOIN {rows} o
            ON o.digest = s.digest AND o.unit_code = s.unit_code AND o.start_date = s.start_date
            AND o.line_no < s.line_no GROUP BY s.line_no""",
        reason=lambda other: MSG_DUPLICATE_MEMBERSHIP.format(at(other)),
    )
    # Resolved rows: the person, unit and membership each row names, where they exist already.
    resolved = run.create_table_as(
        "resolved",
        f"""SELECT s.line_no, s.digest, p.id AS person_id, u.id AS unit_id, m.id AS membership_id,
                   s.category, s.title, s.start_date, s.end_date, s.end_reason
            FROM {rows} s
            LEFT JOIN {PERSON} p ON p.national_id_digest = s.digest AND {insider}
            LEFT JOIN {UNIT} u ON u.code = s.unit_code
            LEFT JOIN {MEMBERSHIP} m
              ON m.person_id = p.id AND m.unit_id = u.id AND m.start_date = s.start_date""",
    )
    with run.connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {resolved}_line ON {resolved} (line_no)")
        cursor.execute(f"CREATE INDEX {resolved}_membership ON {resolved} (membership_id)")
    run.collect(
        f"""SELECT s.line_no FROM {rows} s JOIN (
                SELECT digest FROM (
                    SELECT digest FROM {rows} WHERE end_date IS NULL
                    UNION ALL
                    SELECT d.digest FROM (SELECT DISTINCT digest, person_id FROM {resolved}
                                          WHERE person_id IS NOT NULL) d
                    JOIN {MEMBERSHIP} m ON m.person_id = d.person_id AND m.end_date IS NULL
                    WHERE NOT EXISTS (SELECT 1 FROM {resolved} r WHERE r.membership_id = m.id)
                ) open_rows GROUP BY digest HAVING COUNT(*) > 1
            ) twice ON twice.digest = s.digest
            WHERE s.end_date IS NULL""",
        reason=MSG_TWO_OPEN_MEMBERSHIPS,
    )
    _check_overlaps(run, rows, resolved)


# Two periods [a.start, a.end] and [b.start, b.end] (an empty end: still serving) share a day.
_OVERLAP = """(b.end_date IS NULL OR a.start_date <= b.end_date)
              AND (a.end_date IS NULL OR b.start_date <= a.end_date)"""


def _check_overlaps(run: ImportRun, rows: str, resolved: str) -> None:
    """SPEC §3.1: one person, one unit on any day. Two open periods are reported above already."""
    run.collect(
        f"""SELECT a.line_no, MIN(b.line_no) FROM {rows} a JOIN {rows} b
            ON b.digest = a.digest AND b.line_no < a.line_no
            WHERE {_OVERLAP} AND NOT (a.end_date IS NULL AND b.end_date IS NULL)
              AND NOT (b.unit_code = a.unit_code AND b.start_date = a.start_date)
            GROUP BY a.line_no""",
        reason=lambda other: MSG_OVERLAP_LINE.format(at(other)),
    )
    # Against the database's memberships of the same people that the file does not name (those
    # it names take the file's dates).
    run.collect(
        f"""SELECT a.line_no, MIN(u.name), MIN(b.start_date) FROM {resolved} a
            JOIN {MEMBERSHIP} b ON b.person_id = a.person_id
            JOIN {UNIT} u ON u.id = b.unit_id
            WHERE a.person_id IS NOT NULL AND {_OVERLAP}
              AND (a.membership_id IS NULL OR b.id <> a.membership_id)
              AND NOT (a.end_date IS NULL AND b.end_date IS NULL)
              AND NOT EXISTS (SELECT 1 FROM {resolved} r WHERE r.membership_id = b.id)
            GROUP BY a.line_no""",
        reason=(
            (lambda unit, start: MSG_OVERLAP_DATABASE_HERE)
            if run.unit_id is not None
            else (lambda unit, start: MSG_OVERLAP_DATABASE.format(unit, _iso(start)))
        ),
    )


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _merge(run: ImportRun, rows: str, subjects: str, subject_names: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    connection = run.connection
    resolved = run.table_name("resolved")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # Who wrote each person's address (teachers.trust): the uploading school, else the unit of the
    # person's open row in the file (none: no unit vouches for it). One GROUP BY joined, not a
    # subquery per person: the resolved table has no index on digest, and 200,000 scans of it
    # took minutes.
    emails = run.create_table_as(
        "emails",
        f"""SELECT g.digest, g.line_no, g.email,
                   CASE WHEN g.email = '' THEN NULL ELSE COALESCE(%s, o.unit_id) END AS unit_id
            FROM (SELECT digest, MIN(line_no) AS line_no, MAX(email) AS email
                  FROM {rows} GROUP BY digest) g
            LEFT JOIN (SELECT digest, MIN(unit_id) AS unit_id FROM {resolved}
                       WHERE end_date IS NULL GROUP BY digest) o ON o.digest = g.digest""",
        [run.unit_id],
    )
    with connection.cursor() as cursor, run.phase(PHASE_PEOPLE):
        cursor.execute(
            f"""INSERT INTO {PERSON} (name, email, email_unit_id, email_confirmed, national_id_digest,
                                      national_id_encrypted, created_at)
                SELECT s.name, g.email, g.unit_id, FALSE, s.digest, s.nid_enc, %s
                FROM {emails} g
                JOIN {rows} s ON s.line_no = g.line_no
                WHERE NOT EXISTS (SELECT 1 FROM {PERSON} p WHERE p.national_id_digest = g.digest)""",
            [now],
        )
        counts["people_created"] = cursor.rowcount
        cursor.execute(
            f"""UPDATE {PERSON} SET email = g.email, email_unit_id = g.unit_id, email_confirmed = FALSE
                FROM {emails} g
                WHERE {PERSON}.national_id_digest = g.digest AND {PERSON}.email = '' AND g.email <> ''"""
        )
    # The rows again with every person resolved: a new table costs less than updating the
    # indexed resolved table in place.
    merge = run.create_table_as(
        "merge",
        f"""SELECT d.line_no, COALESCE(d.person_id, p.id) AS person_id, d.unit_id, d.membership_id,
                   d.category, d.title, d.start_date, d.end_date, d.end_reason
            FROM {resolved} d
            LEFT JOIN {PERSON} p ON d.person_id IS NULL AND p.national_id_digest = d.digest""",
    )
    Subject.objects.bulk_create([Subject(name=n) for n in sorted(subject_names)], ignore_conflicts=True)
    if run.bulk:
        # Asked for by the operator (a first national load): the membership tables' indexes and
        # foreign keys are rebuilt once instead of row by row (and checked row by row again at
        # commit). The checks above leave nothing for the rebuilt unique indexes to find; should
        # they find something after all, the savepoint takes the attempt back and the ordinary
        # path runs.
        try:
            with (
                transaction.atomic(),
                run.phase(PHASE_MEMBERSHIPS_BULK),
                secondary_indexes_dropped(connection, MEMBERSHIP_SUBJECTS),
                secondary_indexes_dropped(connection, MEMBERSHIP),
            ):
                counts.update(_merge_memberships(run, merge, subjects))
            return counts
        except IntegrityError:
            pass
    with run.phase(PHASE_MEMBERSHIPS):
        counts.update(_merge_memberships(run, merge, subjects))
    return counts


def _merge_memberships(run: ImportRun, merge: str, subjects: str) -> dict[str, int]:
    """Memberships and their subjects from the merge table (every row's person resolved)."""
    with run.connection.cursor() as cursor:
        # Close before reopening, so the one-open-membership index never sees two at once.
        updated = 0
        for condition in ("d.end_date IS NOT NULL", "d.end_date IS NULL"):
            # The reason: the file's; else the one held for the same end date; else 資料匯入.
            reason = f"""CASE WHEN d.end_date IS NULL THEN NULL
                              WHEN d.end_reason <> '' THEN d.end_reason
                              WHEN {MEMBERSHIP}.end_date = d.end_date AND {MEMBERSHIP}.end_reason IS NOT NULL
                                   THEN {MEMBERSHIP}.end_reason
                              ELSE '{EndReason.IMPORTED}' END"""
            cursor.execute(
                f"""UPDATE {MEMBERSHIP} SET category = d.category, title = d.title, end_date = d.end_date,
                        end_reason = {reason}
                    FROM {merge} d
                    WHERE {MEMBERSHIP}.id = d.membership_id AND {condition}
                      AND ({MEMBERSHIP}.category <> d.category OR {MEMBERSHIP}.title <> d.title
                           OR {MEMBERSHIP}.end_date IS DISTINCT FROM d.end_date
                           OR {MEMBERSHIP}.end_reason IS DISTINCT FROM ({reason}))"""
            )
            updated += cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {MEMBERSHIP}
                    (person_id, unit_id, category, title, start_date, end_date, end_reason, source)
                SELECT person_id, unit_id, category, title, start_date, end_date,
                       CASE WHEN end_date IS NULL THEN NULL WHEN end_reason <> '' THEN end_reason
                            ELSE '{EndReason.IMPORTED}' END,
                       '{EndReason.IMPORTED}'
                FROM {merge} WHERE membership_id IS NULL ORDER BY person_id, start_date"""
        )
        created = cursor.rowcount
        if created >= 10_000 and run.pg:
            # Fresh statistics, or the planner takes the new rows for none and joins them below
            # by a nested loop over the whole table (minutes instead of a second).
            cursor.execute(f"ANALYZE {MEMBERSHIP}")
    # The (membership, subject) pairs the file names, once, as a table of their own: every
    # statement below then joins plain tables and the planner needs no guesswork.
    pairs = run.create_table_as(
        "pairs",
        f"""SELECT m.id AS membership_id, sub.id AS subject_id FROM {subjects} ds
            JOIN {merge} d ON d.line_no = ds.line_no
            JOIN {MEMBERSHIP} m ON m.person_id = d.person_id AND m.unit_id = d.unit_id
                               AND m.start_date = d.start_date
            JOIN {SUBJECT} sub ON sub.name = ds.subject""",
    )
    with run.connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM {MEMBERSHIP_SUBJECTS}
                WHERE membership_id IN (SELECT membership_id FROM {merge} WHERE membership_id IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM {pairs} w
                    WHERE w.membership_id = {MEMBERSHIP_SUBJECTS}.membership_id
                    AND w.subject_id = {MEMBERSHIP_SUBJECTS}.subject_id)"""
        )
    # Each pair comes from one line at most (a membership named twice is refused above, a line's
    # subjects are distinct), so NOT EXISTS is enough and needs no unique index, which the bulk
    # path has dropped. The new pairs are set aside first: an INSERT that tests NOT EXISTS
    # against its own target table may rescan it for every row as it grows.
    new_pairs = run.create_table_as(
        "new_pairs",
        f"""SELECT w.membership_id, w.subject_id FROM {pairs} w
            WHERE NOT EXISTS (SELECT 1 FROM {MEMBERSHIP_SUBJECTS} x
                WHERE x.membership_id = w.membership_id AND x.subject_id = w.subject_id)""",
    )
    with run.connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {MEMBERSHIP_SUBJECTS} (membership_id, subject_id)
                SELECT membership_id, subject_id FROM {new_pairs} ORDER BY membership_id, subject_id"""
        )
    return {"memberships_created": created, "memberships_updated": updated}


def export_roster(path: Path) -> int:
    memberships = (
        Membership.objects.order_by("person_id", "start_date", "unit__code")
        .select_related("person", "unit")
        .prefetch_related("subjects")
    )
    last_person, last_nid = None, ""
    with TableWriter(path, COLUMNS) as out:
        for m in memberships.iterator(chunk_size=2000):
            if m.person_id != last_person:
                last_person, last_nid = (
                    m.person_id,
                    national_id.reveal(m.person.national_id_encrypted, to=national_id.DATA_EXCHANGE_EXPORT),
                )
            out.write(
                (
                    last_nid,
                    m.person.name,
                    m.person.email,
                    m.unit.code,
                    m.category,
                    m.title,
                    ";".join(sorted(s.name for s in m.subjects.all())),
                    m.start_date.isoformat(),
                    m.end_date.isoformat() if m.end_date else "",
                )
            )
    return out.count


KIND = Kind(
    name="roster",
    label="人員名冊",
    columns=COLUMNS,
    import_rows=import_roster,
    export=export_roster,
    count_labels=COUNT_LABELS,
    order=20,
    bulk_tables=(MEMBERSHIP, MEMBERSHIP_SUBJECTS),
    changed_tables=(PERSON, SUBJECT, MEMBERSHIP, MEMBERSHIP_SUBJECTS),
    optional_columns=OPTIONAL_COLUMNS,
)
