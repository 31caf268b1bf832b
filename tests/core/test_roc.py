import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from core import roc


def test_roc_date_formats_like_the_notice():
    assert roc.format_roc_date(dt.date(2024, 8, 5)) == "113年8月5日"


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2024, 8, 1), 113),
        (dt.date(2025, 7, 31), 113),
        (dt.date(2024, 7, 31), 112),
        (dt.date(2025, 8, 1), 114),
    ],
)
def test_academic_year_runs_from_august_to_july(day, year):
    assert roc.academic_year(day) == year


def test_academic_year_bounds():
    assert roc.academic_year_bounds(113) == (dt.date(2024, 8, 1), dt.date(2025, 7, 31))


def render(template: str, **context) -> str:
    return Template(template).render(Context(context))


def test_roc_filter_on_a_date():
    assert render("{{ d|roc }}", d=dt.date(2024, 8, 5)) == "113年8月5日"


def test_roc_filter_shows_aware_times_in_taipei():
    utc_evening = dt.datetime(2024, 8, 14, 9, 0, tzinfo=ZoneInfo("UTC"))
    assert render("{{ t|roc }}", t=utc_evening) == "113年8月14日 17:00"
    # 16:30 UTC is already the next day in Taipei.
    assert (
        render("{{ t|roc_date }}", t=dt.datetime(2024, 8, 4, 16, 30, tzinfo=ZoneInfo("UTC"))) == "113年8月5日"
    )


def test_roc_filter_leaves_empty_values_empty():
    assert render("{{ d|roc }}", d=None) == ""


def test_the_first_semester_runs_from_august_to_january_and_the_second_from_february_to_july():
    from core.roc import semester

    assert [
        semester(dt.date(*day)) for day in ((2024, 7, 31), (2024, 8, 1), (2025, 1, 31), (2025, 2, 1))
    ] == [
        2,
        1,
        1,
        2,
    ]
