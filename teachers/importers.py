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
- The optional `end_reason` column (離職, 轉校, 退休, 資料匯入, 更正) goes with end_date; an ended
  row without one records 資料匯入, unless the membership already holds a reason for that end date.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import national_id
from accounts.importers import check_national_id
from accounts.masking import mask_name
from accounts.models import Person, Unit
from core.dataexchange import (
    MSG_BAD_DATE,
    MSG_END_BEFORE_START,
    MSG_REQUIRED,
    MSG_TOO_LONG,
    Staging,
    Table,
    TableWriter,
    at,
    bulk_load_pays,
    collect,
    control_characters,
    parse_date,
    phase,
    refuse_if,
    secondary_indexes_dropped,
    text_problem,
    tune_session,
)
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


class _RosterTable(Table):
    """The engine's Table plus the optional end_reason column, when the header names it."""

    def _map_header(self, header, line=1):
        index = super()._map_header(header, line)
        names = [(h or "").strip().lstrip("\ufeff").strip().lower() for h in header]
        for column in OPTIONAL_COLUMNS:
            if column in names and names.index(column) < self.width:
                index.append(names.index(column))
        return index


def import_roster(path: Path) -> dict[str, int]:
    table = _RosterTable(path, COLUMNS)
    errors = table.errors
    with transaction.atomic():
        tune_session(connection)
        roster = Staging(
            connection,
            "dx_roster",
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
        ).create()
        subject_names: set[str] = set()
        text, null = roster.text, roster.null
        with phase("read and stage"), roster.writer() as add:
            for line, row in table.rows():
                nid, name, email, unit_code, category, title, subject_list, start, end = (
                    v.strip() for v in row[:9]
                )
                end_reason = row[9].strip() if len(row) > 9 else ""
                ok = True
                if problem := control_characters(
                    name=name, email=email, unit_code=unit_code, title=title, subjects=subject_list
                ):
                    errors.add(line, problem)
                    ok = False
                nid, problem = check_national_id(nid)
                if problem:
                    errors.add(line, problem)
                    ok = False
                if problem := text_problem("name", name, 60):
                    errors.add(line, problem)
                    ok = False
                if problem := text_problem("email", email, 254, required=False):
                    errors.add(line, problem)
                    ok = False
                elif email:
                    try:
                        validate_email(email)
                    except ValidationError:
                        errors.add(line, MSG_BAD_EMAIL)
                        ok = False
                if problem := text_problem("unit_code", unit_code):
                    errors.add(line, problem)
                    ok = False
                if category not in CATEGORIES:
                    errors.add(line, MSG_UNKNOWN_CATEGORY)
                    ok = False
                if problem := text_problem("title", title, 60, required=False):
                    errors.add(line, problem)
                    ok = False
                names = [s for s in SUBJECT_SPLIT.split(subject_list) if s] if subject_list else []
                if any(len(s) > 30 for s in names):
                    errors.add(line, MSG_TOO_LONG.format(column="subjects", limit=30))
                    ok = False
                start_date = parse_date(start) if start else None
                if not start:
                    errors.add(line, MSG_REQUIRED.format(column="start_date"))
                    ok = False
                elif start_date is None:
                    errors.add(line, MSG_BAD_DATE.format(column="start_date"))
                    ok = False
                end_date = parse_date(end) if end else None
                if end and end_date is None:
                    errors.add(line, MSG_BAD_DATE.format(column="end_date"))
                    ok = False
                if start_date and end_date and end_date < start_date:
                    errors.add(line, MSG_END_BEFORE_START)
                    ok = False
                if end_reason and end_reason not in END_REASONS:
                    errors.add(line, MSG_BAD_END_REASON)
                    ok = False
                elif end_reason and not end:
                    errors.add(line, MSG_END_REASON_WITHOUT_END)
                    ok = False
                if not ok:
                    continue
                add(
                    (
                        str(line),
                        national_id.digest(nid),
                        national_id.encrypt(nid),
                        text(name),
                        text(email),
                        text(unit_code),
                        category,
                        text(title),
                        start_date.isoformat(),
                        end_date.isoformat() if end_date else null,
                        text(json.dumps(list(dict.fromkeys(names)), ensure_ascii=False)),
                        end_reason,
                    )
                )
                subject_names.update(names)

        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX dx_roster_digest ON dx_roster (digest)")
            cursor.execute("CREATE INDEX dx_roster_line ON dx_roster (line_no)")
            # One row per (line, subject): split the JSON list in SQL, in each back end's dialect.
            cursor.execute("DROP TABLE IF EXISTS dx_roster_subjects")
            if roster.pg:
                cursor.execute(
                    """CREATE TEMPORARY TABLE dx_roster_subjects AS
                       SELECT line_no, jsonb_array_elements_text(subjects::jsonb) AS subject
                       FROM dx_roster WHERE subjects <> '[]'"""
                )
            else:
                cursor.execute(
                    """CREATE TEMPORARY TABLE dx_roster_subjects AS
                       SELECT s.line_no, j.value AS subject FROM dx_roster s, json_each(s.subjects) j
                       WHERE s.subjects <> '[]'"""
                )
            cursor.execute("CREATE INDEX dx_roster_subjects_line ON dx_roster_subjects (line_no)")
        with phase("check"):
            _check(errors)
        refuse_if(errors)
        counts = _merge(subject_names, rows=roster.count)
        roster.drop()
        with connection.cursor() as cursor:
            for table in ("dx_roster_subjects", "dx_roster_m", "dx_roster_r"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


def _check(errors) -> None:
    collect(
        connection,
        errors,
        f"""SELECT s.line_no FROM dx_roster s LEFT JOIN {UNIT} u ON u.code = s.unit_code
            WHERE u.id IS NULL""",
        reason=MSG_UNKNOWN_UNIT,
    )
    collect(
        connection,
        errors,
        f"""SELECT s.line_no, p.name FROM dx_roster s
            JOIN {PERSON} p ON p.national_id_digest = s.digest WHERE p.name <> s.name""",
        reason=lambda name: MSG_NAME_DIFFERS_FROM_DATABASE.format(mask_name(name)),
    )
    first_rows = """(SELECT f.digest, f.line_no, f.name, f.email FROM dx_roster f
        JOIN (SELECT digest, MIN(line_no) AS line_no FROM dx_roster GROUP BY digest) m
        ON m.line_no = f.line_no)"""
    collect(
        connection,
        errors,
        f"""SELECT s.line_no, f.line_no FROM dx_roster s JOIN {first_rows} f ON f.digest = s.digest
            WHERE s.line_no <> f.line_no AND s.name <> f.name""",
        reason=lambda other: MSG_NAME_DIFFERS_FROM_LINE.format(at(other)),
    )
    collect(
        connection,
        errors,
        """SELECT s.line_no, MIN(o.line_no) FROM dx_roster s JOIN dx_roster o
            ON o.digest = s.digest AND o.line_no < s.line_no AND o.email <> '' AND o.email <> s.email
            WHERE s.email <> '' GROUP BY s.line_no""",
        reason=lambda other: MSG_EMAIL_DIFFERS_FROM_LINE.format(at(other)),
    )
    collect(
        connection,
        errors,
        """SELECT s.line_no, MIN(o.line_no) FROM dx_roster s JOIN dx_roster o
            ON o.digest = s.digest AND o.unit_code = s.unit_code AND o.start_date = s.start_date
            AND o.line_no < s.line_no GROUP BY s.line_no""",
        reason=lambda other: MSG_DUPLICATE_MEMBERSHIP.format(at(other)),
    )
    # Resolved rows: the person, unit and membership each row names, where they exist already.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS dx_roster_m")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE dx_roster_m AS
                SELECT s.line_no, s.digest, p.id AS person_id, u.id AS unit_id, m.id AS membership_id,
                       s.category, s.title, s.start_date, s.end_date, s.end_reason
                FROM dx_roster s
                LEFT JOIN {PERSON} p ON p.national_id_digest = s.digest
                LEFT JOIN {UNIT} u ON u.code = s.unit_code
                LEFT JOIN {MEMBERSHIP} m
                  ON m.person_id = p.id AND m.unit_id = u.id AND m.start_date = s.start_date"""
        )
        cursor.execute("CREATE INDEX dx_roster_m_line ON dx_roster_m (line_no)")
        cursor.execute("CREATE INDEX dx_roster_m_membership ON dx_roster_m (membership_id)")
    collect(
        connection,
        errors,
        f"""SELECT s.line_no FROM dx_roster s JOIN (
                SELECT digest FROM (
                    SELECT digest FROM dx_roster WHERE end_date IS NULL
                    UNION ALL
                    SELECT d.digest FROM (SELECT DISTINCT digest, person_id FROM dx_roster_m
                                          WHERE person_id IS NOT NULL) d
                    JOIN {MEMBERSHIP} m ON m.person_id = d.person_id AND m.end_date IS NULL
                    WHERE NOT EXISTS (SELECT 1 FROM dx_roster_m r WHERE r.membership_id = m.id)
                ) open_rows GROUP BY digest HAVING COUNT(*) > 1
            ) twice ON twice.digest = s.digest
            WHERE s.end_date IS NULL""",
        reason=MSG_TWO_OPEN_MEMBERSHIPS,
    )
    _check_overlaps(errors)


# Two periods [a.start, a.end] and [b.start, b.end] (an empty end: still serving) share a day.
_OVERLAP = """(b.end_date IS NULL OR a.start_date <= b.end_date)
              AND (a.end_date IS NULL OR b.start_date <= a.end_date)"""


def _check_overlaps(errors) -> None:
    """SPEC §3.1: one person, one unit on any day. Two open periods are reported above already."""
    collect(
        connection,
        errors,
        f"""SELECT a.line_no, MIN(b.line_no) FROM dx_roster a JOIN dx_roster b
            ON b.digest = a.digest AND b.line_no < a.line_no
            WHERE {_OVERLAP} AND NOT (a.end_date IS NULL AND b.end_date IS NULL)
              AND NOT (b.unit_code = a.unit_code AND b.start_date = a.start_date)
            GROUP BY a.line_no""",
        reason=lambda other: MSG_OVERLAP_LINE.format(at(other)),
    )
    # Against the database's memberships of the same people that the file does not name (those
    # it names take the file's dates).
    collect(
        connection,
        errors,
        f"""SELECT a.line_no, MIN(u.name), MIN(b.start_date) FROM dx_roster_m a
            JOIN {MEMBERSHIP} b ON b.person_id = a.person_id
            JOIN {UNIT} u ON u.id = b.unit_id
            WHERE a.person_id IS NOT NULL AND {_OVERLAP}
              AND (a.membership_id IS NULL OR b.id <> a.membership_id)
              AND NOT (a.end_date IS NULL AND b.end_date IS NULL)
              AND NOT EXISTS (SELECT 1 FROM dx_roster_m r WHERE r.membership_id = b.id)
            GROUP BY a.line_no""",
        reason=lambda unit, start: MSG_OVERLAP_DATABASE.format(unit, _iso(start)),
    )


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _merge(subject_names: set[str], rows: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor, phase("merge people"):
        cursor.execute(
            f"""INSERT INTO {PERSON} (name, email, national_id_digest, national_id_encrypted, created_at)
                SELECT s.name, g.email, s.digest, s.nid_enc, %s
                FROM (SELECT digest, MIN(line_no) AS line_no, MAX(email) AS email
                      FROM dx_roster GROUP BY digest) g
                JOIN dx_roster s ON s.line_no = g.line_no
                WHERE NOT EXISTS (SELECT 1 FROM {PERSON} p WHERE p.national_id_digest = g.digest)""",
            [now],
        )
        counts["people_created"] = cursor.rowcount
        cursor.execute(
            f"""UPDATE {PERSON} SET email = g.email
                FROM (SELECT digest, MAX(email) AS email FROM dx_roster GROUP BY digest) g
                WHERE {PERSON}.national_id_digest = g.digest AND {PERSON}.email = '' AND g.email <> ''"""
        )
        # The rows again with every person resolved: a new table costs less than updating the
        # indexed dx_roster_m in place.
        cursor.execute("DROP TABLE IF EXISTS dx_roster_r")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE dx_roster_r AS
                SELECT d.line_no, COALESCE(d.person_id, p.id) AS person_id, d.unit_id, d.membership_id,
                       d.category, d.title, d.start_date, d.end_date, d.end_reason
                FROM dx_roster_m d
                LEFT JOIN {PERSON} p ON d.person_id IS NULL AND p.national_id_digest = d.digest"""
        )
        cursor.execute("ANALYZE dx_roster_r")
    Subject.objects.bulk_create([Subject(name=n) for n in sorted(subject_names)], ignore_conflicts=True)
    if bulk_load_pays(connection, rows, MEMBERSHIP):
        # A first national load: the membership tables' indexes and foreign keys are rebuilt once
        # instead of row by row (and checked row by row again at commit). The checks above leave
        # nothing for the rebuilt unique indexes to find; should they find something after all,
        # the savepoint takes the attempt back and the ordinary path runs.
        try:
            with (
                transaction.atomic(),
                phase("merge memberships (bulk)"),
                secondary_indexes_dropped(connection, MEMBERSHIP_SUBJECTS),
                secondary_indexes_dropped(connection, MEMBERSHIP),
            ):
                counts.update(_merge_memberships())
            return counts
        except IntegrityError:
            pass
    with phase("merge memberships"):
        counts.update(_merge_memberships())
    return counts


def _merge_memberships() -> dict[str, int]:
    """Memberships and their subjects from dx_roster_r (dx_roster_m with every person resolved)."""
    with connection.cursor() as cursor:
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
                    FROM dx_roster_r d
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
                FROM dx_roster_r WHERE membership_id IS NULL ORDER BY person_id, start_date"""
        )
        created = cursor.rowcount
        if created >= 10_000 and connection.vendor == "postgresql":
            # Fresh statistics, or the planner takes the new rows for none and joins them below
            # by a nested loop over the whole table (minutes instead of a second).
            cursor.execute(f"ANALYZE {MEMBERSHIP}")
        # The (membership, subject) pairs the file names, once, as a table of their own: every
        # statement below then joins plain tables and the planner needs no guesswork.
        cursor.execute("DROP TABLE IF EXISTS dx_roster_w")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE dx_roster_w AS
                SELECT m.id AS membership_id, sub.id AS subject_id FROM dx_roster_subjects ds
                JOIN dx_roster_r d ON d.line_no = ds.line_no
                JOIN {MEMBERSHIP} m ON m.person_id = d.person_id AND m.unit_id = d.unit_id
                                   AND m.start_date = d.start_date
                JOIN {SUBJECT} sub ON sub.name = ds.subject"""
        )
        cursor.execute("ANALYZE dx_roster_w")
        cursor.execute(
            f"""DELETE FROM {MEMBERSHIP_SUBJECTS}
                WHERE membership_id IN (SELECT membership_id FROM dx_roster_r WHERE membership_id IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM dx_roster_w w
                    WHERE w.membership_id = {MEMBERSHIP_SUBJECTS}.membership_id
                    AND w.subject_id = {MEMBERSHIP_SUBJECTS}.subject_id)"""
        )
        # Each pair comes from one line at most (a membership named twice is refused above, a
        # line's subjects are distinct), so NOT EXISTS is enough and needs no unique index, which
        # the bulk path has dropped. The new pairs are set aside first: an INSERT that tests NOT
        # EXISTS against its own target table may rescan it for every row as it grows.
        cursor.execute("DROP TABLE IF EXISTS dx_roster_ms")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE dx_roster_ms AS
                SELECT w.membership_id, w.subject_id FROM dx_roster_w w
                WHERE NOT EXISTS (SELECT 1 FROM {MEMBERSHIP_SUBJECTS} x
                    WHERE x.membership_id = w.membership_id AND x.subject_id = w.subject_id)"""
        )
        cursor.execute(
            f"""INSERT INTO {MEMBERSHIP_SUBJECTS} (membership_id, subject_id)
                SELECT membership_id, subject_id FROM dx_roster_ms ORDER BY membership_id, subject_id"""
        )
        cursor.execute("DROP TABLE dx_roster_ms")
        cursor.execute("DROP TABLE dx_roster_w")
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
                last_person, last_nid = m.person_id, m.person.reveal_national_id()
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
