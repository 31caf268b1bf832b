"""The ROC (民國) calendar and the academic year (學年度). Pure functions, no Django."""

import datetime as dt
import re
import unicodedata

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


def semester(value: dt.date) -> int:
    """The semester of its academic year containing the date: 1 from August to January, 2 from
    February to July (學年度第 1 / 第 2 學期)."""
    return 1 if value.month >= 8 or value.month == 1 else 2


def academic_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of ROC academic year `year`."""
    start = year + ROC_OFFSET
    return dt.date(start, 8, 1), dt.date(start + 1, 7, 31)


# Typed dates: 113/8/5, 113-8-5, 113.8.5, 113年8月5日 (民國 optional), and ISO or Gregorian
# 2024-08-05 / 2024/8/5. Full-width digits and separators (１１３／８／５) are folded first.
_ROC_TEXT_RE = re.compile(r"^(?:民國)?\s*(\d{1,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_NUMERIC_RE = re.compile(r"^(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$")


def parse_date(text: str) -> dt.date:
    """A date typed in the ROC calendar (a year of up to three digits) or the Gregorian one (four).

    Raises ValueError for anything else, including impossible dates such as 113/2/30.
    """
    value = unicodedata.normalize("NFKC", text or "").strip()
    match = _ROC_TEXT_RE.match(value) or _NUMERIC_RE.match(value)
    if match is None:
        raise ValueError(f"not a date: {text!r}")
    year_text, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    year = int(year_text)
    if len(year_text) < 4:
        if year < 1:
            raise ValueError(f"not a date: {text!r}")
        year += ROC_OFFSET
    return dt.date(year, month, day)


_TIME_RE = re.compile(r"^(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?$")


def parse_datetime(text: str) -> dt.datetime:
    """A date as parse_date reads it, a space, then a 24-hour time (17:00 or 17:00:00); naive.

    Raises ValueError for anything else, including a missing or impossible time (24:00, 17:60).
    """
    value = unicodedata.normalize("NFKC", text or "").strip()
    date_text, _space, time_text = value.rpartition(" ")
    match = _TIME_RE.match(time_text.strip())
    if not date_text or match is None:
        raise ValueError(f"not a date and time: {text!r}")
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    return dt.datetime.combine(parse_date(date_text), dt.time(hour, minute, second))
