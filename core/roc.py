"""The ROC (民國) calendar and the academic year (學年度). Pure functions, no Django."""

import datetime as dt

ROC_OFFSET = 1911


def roc_year(year: int) -> int:
    return year - ROC_OFFSET


def format_roc_date(value: dt.date) -> str:
    """113年8月5日 for 2024-08-05."""
    return f"{roc_year(value.year)}年{value.month}月{value.day}日"


def format_roc_datetime(value: dt.datetime) -> str:
    """113年8月5日 17:00 — the caller passes a local (Asia/Taipei) time."""
    return f"{format_roc_date(value)} {value:%H:%M}"


def academic_year(value: dt.date) -> int:
    """The ROC academic year containing the date: year Y runs 1 Aug (Y+1911) to 31 Jul (Y+1912)."""
    year = value.year if value.month >= 8 else value.year - 1
    return roc_year(year)


def academic_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of ROC academic year `year`."""
    start = year + ROC_OFFSET
    return dt.date(start, 8, 1), dt.date(start + 1, 7, 31)
