"""The reward lists as files (SPEC §8 reward export, §9 privacy).

`manage.py export_rewards` (and the operator's 「SPEC §8 交換格式」 link) has exactly the SPEC §8
machine columns, with the teacher's national ID as its code. The downloads meant for people
(`download_tables`) have zh-Hant headers and values, typed cells and the teacher's school on every
teacher row; only the operator's carries the national IDs. An authority's or a school's copy carries
names, schools and figures, never an ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from accounts import national_id
from accounts.permissions import UnitScope
from core import exports
from core.exports import Column, Kind, Table
from rewards import selectors
from rewards.explain import figure, plain
from rewards.pr import floor_decimal, shown

OPERATOR_COLUMNS = (
    "level", "code", "name", "authority_code", "stage", "value", "national_average", "group_size", "pr",
    "awarded",
)  # fmt: skip
UNIT_COLUMNS = (
    "level", "code", "name", "school_code", "school_name", "authority_code", "stage", "value",
    "national_average", "group_size", "pr", "awarded",
)  # fmt: skip


def _flag(value: bool) -> str:
    return "1" if value else "0"


def rows(scope: UnitScope, year: int, *, with_ids: bool) -> Iterator[list[str]]:
    """Every row of the year's published lists within the scope: authorities, schools, teachers."""
    for r in selectors.authority_results(scope, year):
        a = r.authority
        if with_ids:
            yield ["authority", a.code, a.name, a.code, "", plain(r.fill_rate), plain(r.national_average),
                   str(r.schools_total), "", _flag(r.awarded)]  # fmt: skip
        else:
            yield ["authority", a.code, a.name, "", "", a.code, "", plain(r.fill_rate),
                   plain(r.national_average), str(r.schools_total), "", _flag(r.awarded)]  # fmt: skip
    for r in selectors.school_results(scope, year).iterator(chunk_size=2000):
        s = r.school
        common = [str(r.stage), plain(r.average), plain(r.national_average), str(r.group_size), figure(r.pr),
                  _flag(r.awarded)]  # fmt: skip
        if with_ids:
            yield ["school", s.code, s.name, r.authority.code, *common]
        else:
            yield ["school", s.code, s.name, s.code, s.name, r.authority.code, *common]
    # Teachers as plain tuples: 200,000 model instances would triple the time of the national copy.
    teachers = selectors.teacher_results(scope, year).values_list(
        "person__name", "person__national_id_encrypted", "school__code", "school__name", "authority__code",
        "stage", "hours", "national_average", "group_size", "pr", "awarded",
    )  # fmt: skip
    for (
        name,
        encrypted,
        school_code,
        school_name,
        authority_code,
        stage,
        hours,
        a,
        size,
        rank,
        won,
    ) in teachers.iterator(chunk_size=5000):
        common = [stage, plain(hours), plain(a), str(size), figure(rank), _flag(won)]
        if with_ids:
            yield [
                "teacher",
                national_id.reveal(encrypted, to=national_id.REWARD_EXPORT),
                name,
                authority_code,
                *common,
            ]
        else:
            yield ["teacher", "", name, school_code, school_name, authority_code, *common]


def spec_table(scope: UnitScope, year: int) -> Table:
    """The SPEC §8 machine file: its English columns, every value text (one sheet, 資料1, as
    import_data reads it); IDs only in the operator's (national) copy."""
    with_ids = scope.level == "all"
    columns = [Column(name) for name in (OPERATOR_COLUMNS if with_ids else UNIT_COLUMNS)]
    return Table("資料1", columns, rows(scope, year, with_ids=with_ids))


def write(path: Path | str, scope: UnitScope, year: int) -> int:
    """Write the scope's SPEC §8 lists to .csv or .xlsx (manage.py export_rewards)."""
    return exports.write(path, [spec_table(scope, year)], suffix=Path(path).suffix.lower().lstrip("."))


# ------------------------------------------------------------------------------------------
# Downloads meant for people (獎勵名單 on the portal): zh-Hant headers and values, typed cells.

YEAR = Column("學年度", Kind.INTEGER, 8)
AUTHORITY_COLUMNS = (
    YEAR,
    Column("主管機關代碼", width=12),
    Column("主管機關", width=16),
    Column("規劃範圍學校數", Kind.INTEGER),
    Column("期程內送出學校數", Kind.INTEGER),
    Column("學校本位進修規劃填報率", Kind.PERCENT),
    Column("獲主管機關獎勵", Kind.YES_NO),
)
SCHOOL_COLUMNS = (
    YEAR,
    Column("主管機關", width=16),
    Column("學校代碼", width=10),
    Column("學校", width=24),
    Column("教育階段", width=10),
    Column("教師數", Kind.INTEGER),
    Column("研習時數合計", Kind.DECIMAL),
    Column("平均研習時數", Kind.DECIMAL),
    Column("全國平均時數", Kind.DECIMAL),
    Column("同組學校數", Kind.INTEGER),
    Column("百分等級 PR", Kind.DECIMAL),
    Column("學校本位進修規劃送出時間", Kind.DATETIME, 20),
    Column("於填報期程內送出", Kind.YES_NO),
    Column("獲學校獎勵", Kind.YES_NO),
)
TEACHER_COLUMNS = (
    YEAR,
    Column("主管機關", width=16),
    Column("學校代碼", width=10),
    Column("學校", width=24),
    Column("姓名", width=12),
    Column("教育階段", width=10),
    Column("研習時數", Kind.DECIMAL),
    Column("全國平均時數", Kind.DECIMAL),
    Column("同組人數", Kind.INTEGER),
    Column("百分等級 PR", Kind.DECIMAL),
    Column("教師自我進修規劃送出時間", Kind.DATETIME, 20),
    Column("於填報期程內送出", Kind.YES_NO),
    Column("獲教師獎勵", Kind.YES_NO),
)
NATIONAL_ID_COLUMN = Column("身分證統一編號", width=14)
LISTS = {"authorities": "主管機關", "schools": "學校", "teachers": "教師"}


def _authority_rows(scope: UnitScope, year: int):
    for r in selectors.authority_results(scope, year):
        yield [year, r.authority.code, r.authority.name, r.schools_total, r.schools_submitted,
               floor_decimal(r.fill_rate, 4), r.awarded]  # fmt: skip


def _school_rows(scope: UnitScope, year: int):
    for r in selectors.school_results(scope, year).iterator(chunk_size=2000):
        yield [year, r.authority.name, r.school.code, r.school.name, r.stage, r.teachers, r.total_hours,
               shown(r.average), shown(r.national_average), r.group_size, shown(r.pr), r.plan_submitted_at,
               r.plan_in_window, r.awarded]  # fmt: skip


def _teacher_rows(scope: UnitScope, year: int, *, with_ids: bool):
    teachers = selectors.teacher_results(scope, year).values_list(
        "authority__name", "school__code", "school__name", "person__national_id_encrypted", "person__name",
        "stage", "hours", "national_average", "group_size", "pr", "plan_submitted_at", "plan_in_window",
        "awarded",
    )  # fmt: skip
    for (
        authority,
        code,
        school,
        encrypted,
        name,
        stage,
        hours,
        a,
        size,
        rank,
        at,
        inside,
        won,
    ) in teachers.iterator(chunk_size=5000):
        head = [year, authority, code, school]
        if with_ids:
            head.append(national_id.reveal(encrypted, to=national_id.REWARD_EXPORT))
        yield [*head, name, stage, hours, shown(a), size, shown(rank), at, inside, won]


def people_tables(scope: UnitScope, year: int) -> dict[str, Table]:
    """The scope's three lists for people; the teachers' national IDs only in the operator's."""
    with_ids = scope.level == "all"
    teacher_columns = list(TEACHER_COLUMNS)
    if with_ids:
        teacher_columns.insert(4, NATIONAL_ID_COLUMN)
    return {
        "authorities": Table(LISTS["authorities"], AUTHORITY_COLUMNS, _authority_rows(scope, year)),
        "schools": Table(LISTS["schools"], SCHOOL_COLUMNS, _school_rows(scope, year)),
        "teachers": Table(LISTS["teachers"], teacher_columns, _teacher_rows(scope, year, with_ids=with_ids)),
    }


def download_tables(scope: UnitScope, year: int, *, suffix: str, only: str | None = None,
                    spec: bool = False) -> list[Table]:  # fmt: skip
    """What a download holds: the SPEC §8 table, the three lists (.xlsx) or one list (.csv)."""
    if spec:
        return [spec_table(scope, year)]
    tables = people_tables(scope, year)
    if suffix == "xlsx":
        return list(tables.values())
    return [tables[only or "teachers"]]


def lists_in(export) -> tuple[str, ...]:
    """The lists a download holds (its progress counts their rows)."""
    if export.spec or export.suffix == "xlsx":
        return tuple(LISTS)
    return (export.list_name or "teachers",)


def download_name(scope: UnitScope, year: int, *, suffix: str, only: str, spec: bool) -> str:
    part = "national" if scope.level == "all" else scope.unit.code
    if spec:
        return f"rewards-{year}-{part}-spec.{suffix}"
    return f"rewards-{year}-{part}.{suffix}" if suffix == "xlsx" else f"rewards-{year}-{part}-{only}.csv"
