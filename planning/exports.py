"""The planning downloads (填報率查詢, 統計專區), through the one export path (core.exports).

Each is a column spec and a row iterator over what the page shows: rates as typed percentages
(0.00%, the portal's one convention; a rate with no teachers is an empty cell), counts as numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from core.exports import Column, Kind, Table, csv_response

TEACHER_RATE_COLUMNS = (Column("教師送出數", Kind.INTEGER), Column("教師數", Kind.INTEGER),
                        Column("教師填報率", Kind.PERCENT))  # fmt: skip
NATIONAL_FILL_RATE_COLUMNS = (
    Column("主管機關代碼"),
    Column("主管機關"),
    Column("學校送出數", Kind.INTEGER),
    Column("學校數", Kind.INTEGER),
    Column("學校填報率", Kind.PERCENT),
    *TEACHER_RATE_COLUMNS,
)
AUTHORITY_FILL_RATE_COLUMNS = (
    Column("學校代碼"),
    Column("學校"),
    Column("教育階段"),
    Column("學校本位規劃已送出", Kind.YES_NO),
    *TEACHER_RATE_COLUMNS,
)


def _national_rows(rows: Iterable[dict]) -> Iterator[tuple]:
    for r in rows:
        yield (r["code"], r["name"], r["school_submitted"], r["school_total"], r["school_rate"],
               r["teacher_submitted"], r["teacher_total"], r["teacher_rate"])  # fmt: skip


def _authority_rows(rows: Iterable[dict]) -> Iterator[tuple]:
    for r in rows:
        yield (r["code"], r["name"], r["stage"], r["school_submitted"], r["teacher_submitted"],
               r["teacher_total"], r["teacher_rate"])  # fmt: skip


def fill_rates_response(year: int, rows: Iterable[dict], *, national: bool) -> StreamingHttpResponse:
    """填報率查詢 as CSV: by authority (the operator's national view) or by school (an authority's)."""
    if national:
        table = Table("填報率", NATIONAL_FILL_RATE_COLUMNS, _national_rows(rows))
    else:
        table = Table("填報率", AUTHORITY_FILL_RATE_COLUMNS, _authority_rows(rows))
    return csv_response(table, f"fill-rates-{year}.csv")


def _needs_rows(table: dict) -> Iterator[tuple]:
    for row in table["rows"]:
        yield (row["authority_code"], row["authority"], row["stage"], *row["values"])
    yield ("", "全國", "", *table["totals"])


def needs_response(year: int, question: str, table: dict) -> StreamingHttpResponse:
    """統計專區: one question's needs by authority × stage, a column per option, the national totals."""
    columns = (
        Column("主管機關代碼"),
        Column("主管機關"),
        Column("教育階段"),
        *(Column(label, Kind.INTEGER) for label in table["labels"]),
    )
    return csv_response(Table("統計", columns, _needs_rows(table)), f"needs-{year}-{question}.csv")
