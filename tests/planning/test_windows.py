"""Planning cycles and windows (SPEC §6): the 113 schedule as shipped, and the server's window rule."""

import datetime as dt
import re

import pytest

from accounts.models import Unit, UnitKind
from planning.models import TAIPEI, PlanKind, PlanningCycle, PlanningWindow
from planning.windows import open_windows, window_for

# Attachment 三 of the 113 notice, copied line for line (school plan, then teacher plan).
NOTICE_SCHOOL_TABLE = """
新北市、臺北市、臺中市、桃園市、苗栗縣、彰化縣、南投縣、基隆市、新竹市、教育部國教署	8 月 5 日至 8 月 14 日
臺南市、高雄市、宜蘭縣、新竹縣、雲林縣、嘉義縣、屏東縣、花蓮縣、臺東縣、澎湖縣、嘉義市、金門縣、連江縣	8 月 15 日至 8 月 23 日
"""
NOTICE_TEACHER_TABLE = """
1	教育部國教署、澎湖縣、金門縣、連江縣、苗栗縣、花蓮縣	9月2日至9月9日
2	新北市、彰化縣、新竹市、宜蘭縣、南投縣	9月5日至9月12日
3	臺北市、雲林縣、臺南市、新竹縣	9月11日至9月16日
4	臺中市、屏東縣、基隆市、桃園市	9月18日至9月24日
5	高雄市、嘉義縣、嘉義市、臺東縣	9月20日至9月27日
"""
DATES = re.compile(r"(\d+)\s*月\s*(\d+)\s*日至\s*(\d+)\s*月\s*(\d+)\s*日")


def _notice_rows(table: str):
    for line in table.strip().splitlines():
        names = line.split("\t")[-2]
        first_month, first_day, last_month, last_day = map(int, DATES.search(line).groups())
        for name in names.split("、"):
            name = "教育部國民及學前教育署" if name == "教育部國教署" else name
            yield name, dt.date(2024, first_month, first_day), dt.date(2024, last_month, last_day)


def _shipped(kind):
    return {
        window.authority.name: (window.first_day, window.last_day)
        for window in PlanningWindow.objects.filter(cycle__year=113, kind=kind).select_related("authority")
    }


@pytest.mark.django_db
def test_113_schedule_matches_the_notice():
    cycle = PlanningCycle.objects.get(year=113)
    assert cycle.roster_cutoff == dt.datetime(2024, 8, 2, 17, 0, tzinfo=TAIPEI)
    for kind, table in ((PlanKind.SCHOOL, NOTICE_SCHOOL_TABLE), (PlanKind.TEACHER, NOTICE_TEACHER_TABLE)):
        expected = {name: (first, last) for name, first, last in _notice_rows(table)}
        assert len(expected) == 23
        assert _shipped(kind) == expected


@pytest.mark.django_db
def test_window_runs_from_midnight_of_first_day_to_1700_of_last_day_both_included():
    taipei = Unit.objects.get(kind=UnitKind.AUTHORITY, name="臺北市")
    window = window_for(year=113, kind=PlanKind.TEACHER, authority_id=taipei.pk)
    assert (window.first_day, window.last_day) == (dt.date(2024, 9, 11), dt.date(2024, 9, 16))
    at = lambda *a: dt.datetime(*a, tzinfo=TAIPEI)  # noqa: E731
    assert not window.contains(at(2024, 9, 10, 23, 59, 59, 999999))
    assert window.contains(at(2024, 9, 11, 0, 0, 0))
    assert window.contains(at(2024, 9, 16, 17, 0, 0))
    assert not window.contains(at(2024, 9, 16, 17, 0, 0, 1))
    assert not window.contains(at(2024, 9, 16, 17, 0, 1))
    # The same instants in UTC decide the same way: the window is Asia/Taipei time.
    assert window.contains(dt.datetime(2024, 9, 16, 9, 0, 0, tzinfo=dt.UTC))
    assert not window.contains(dt.datetime(2024, 9, 16, 9, 0, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_open_windows_lists_each_authority_open_at_the_instant():
    at = dt.datetime(2024, 9, 12, 17, 0, 0, tzinfo=TAIPEI)  # phase 2 closes, phase 3 is open
    names = {window.authority.name for window in open_windows(at=at, kind=PlanKind.TEACHER)}
    assert names == {"新北市", "彰化縣", "新竹市", "宜蘭縣", "南投縣", "臺北市", "雲林縣", "臺南市", "新竹縣"}
    later = at + dt.timedelta(seconds=1)
    names = {window.authority.name for window in open_windows(at=later, kind=PlanKind.TEACHER)}
    assert names == {"臺北市", "雲林縣", "臺南市", "新竹縣"}
