"""The reward lists as files (SPEC §8 reward export, §9 privacy).

The operator's copy (and `manage.py export_rewards`) has exactly the SPEC §8 columns, with the
teacher's national ID as its code: the only file that carries IDs. An authority's or a school's
copy carries names, schools and figures, never an ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from accounts import national_id
from accounts.permissions import UnitScope
from core.dataexchange import TableWriter
from rewards import selectors
from rewards.explain import figure, plain

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
            yield ["teacher", national_id.decrypt(encrypted), name, authority_code, *common]
        else:
            yield ["teacher", "", name, school_code, school_name, authority_code, *common]


def write(path: Path | str, scope: UnitScope, year: int) -> int:
    """Write the scope's lists to .csv or .xlsx; IDs only in the operator's (national) copy."""
    with_ids = scope.level == "all"
    path = Path(path)
    # TableWriter keeps text that a spreadsheet would run as a formula inert (CWE-1236).
    with TableWriter(path, OPERATOR_COLUMNS if with_ids else UNIT_COLUMNS) as out:
        for row in rows(scope, year, with_ids=with_ids):
            out.write(row)
    return out.count
