"""SPEC §3.1 and issue 10 point 1: the service history is held by the database."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from teachers import services
from teachers.models import EndReason, Membership
from tests.factories import MembershipFactory, PersonFactory, valid_national_id

from .conftest import member

pytestmark = pytest.mark.django_db


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the exclusion constraint exists on PostgreSQL only; SQLite relies on the services' check"
        )


def test_exclusion_constraint_refuses_overlapping_periods_on_postgresql(school, other_school):
    _postgresql_only()
    person = PersonFactory()
    Membership.objects.create(
        person=person, unit=school, start_date=dt.date(2010, 8, 1), end_date=dt.date(2020, 7, 31),
        end_reason=EndReason.LEFT,
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            person=person, unit=other_school, start_date=dt.date(2020, 7, 31), end_date=dt.date(2021, 7, 31),
            end_reason=EndReason.LEFT,
        )  # fmt: skip
    # The day after is fine: periods that touch do not overlap.
    Membership.objects.create(person=person, unit=other_school, start_date=dt.date(2020, 8, 1))


def test_end_reason_goes_with_end_date(school):
    person = PersonFactory()
    for end_date, reason in (
        (dt.date(2020, 1, 1), None),
        (None, EndReason.RETIRED),
        (dt.date(2020, 1, 1), "調校"),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(
                person=person,
                unit=school,
                start_date=dt.date(2010, 8, 1),
                end_date=end_date,
                end_reason=reason,
            )
    Membership.objects.create(
        person=person, unit=school, start_date=dt.date(2010, 8, 1), end_date=dt.date(2020, 1, 1),
        end_reason=EndReason.RETIRED,
    )  # fmt: skip


def test_membership_category_is_checked_by_the_database(school):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            person=PersonFactory(), unit=school, start_date=dt.date(2010, 8, 1), category="校長"
        )


def test_services_refuse_an_overlap_on_both_databases(school, other_school, chief):
    """A closed period in the past that the new one would overlap: refused before the database sees it."""
    old = member(other_school, start=dt.date(2010, 8, 1))
    old.end_date, old.end_reason = dt.date(2022, 7, 31), EndReason.LEFT
    old.save()
    before = list(Membership.objects.values_list("pk", "end_date"))
    with pytest.raises(services.RosterError) as refused:
        services.teacher_register(
            actor=chief, unit=school, national_id=old.person.reveal_national_id(), name=old.person.name,
            start_date=dt.date(2021, 8, 1),
        )  # fmt: skip
    assert refused.value.message == services.MSG_OVERLAP
    assert list(Membership.objects.values_list("pk", "end_date")) == before


def test_ending_a_membership_cannot_overlap_a_later_one(school, chief):
    """An open membership cannot be ended after a later period of the same person begins (bad data)."""
    current = member(school, start=dt.date(2020, 8, 1))
    with pytest.raises(services.RosterError) as refused:
        services.membership_end(
            actor=chief, membership=current, reason=EndReason.LEFT, on=dt.date(2020, 7, 1)
        )
    assert refused.value.message == services.MSG_END_BEFORE_START


def test_transfer_person_ends_the_old_membership_the_day_before_with_transfer(school, other_school):
    old = member(other_school, start=dt.date(2015, 8, 1), title="導師", subjects=["數學"])
    new = services.person_transfer(
        person=old.person, to_unit=school, on=dt.date(2024, 8, 1), source="測試來源"
    )
    old.refresh_from_db()
    assert (old.end_date, old.end_reason) == (dt.date(2024, 7, 31), EndReason.TRANSFERRED)
    assert (new.unit, new.start_date, new.end_date, new.source) == (
        school,
        dt.date(2024, 8, 1),
        None,
        "測試來源",
    )
    assert new.title == "導師" and [s.name for s in new.subjects.all()] == ["數學"]
    assert old.person.memberships.count() == 2


def test_the_current_roster_of_a_unit_has_a_partial_index(school):
    """Issue 8 point 4: the roster page and the download read `unit = ? AND end_date IS NULL`."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Membership._meta.db_table)
    index = found["membership_current_roster"]
    assert index["index"] and index["columns"] == ["unit_id"]
    current = member(school)
    MembershipFactory(
        unit=school,
        start_date=dt.date(2000, 8, 1),
        end_date=dt.date(2010, 7, 31),
        end_reason=EndReason.RETIRED,
    )
    assert list(Membership.objects.current().filter(unit=school)) == [current]


def test_hours_hook_is_registered_by_courses():
    """teachers may not import courses: courses registers the hours expression in ready()."""
    from courses.selectors import issued_hours_in_year
    from teachers import hours

    assert hours.HOURS.one() is issued_hours_in_year


# ------------------------------------------------------------------------------------------------
# The roster import


ID1, ID2 = valid_national_id(71), valid_national_id(72)


def roster_row(nid, unit, start, end="", reason=None, name="王小明"):
    row = [nid, name, "", unit.code, "教師", "教師", "", start, end]
    return row if reason is None else [*row, reason]


HEADER = [
    "national_id",
    "name",
    "email",
    "unit_code",
    "category",
    "title",
    "subjects",
    "start_date",
    "end_date",
]


def test_import_refuses_overlapping_periods_within_the_file(school, other_school, csv_file, refused):
    rows = [
        roster_row(ID1, school, "2010-08-01", "2020-07-31"),
        roster_row(ID1, other_school, "2020-07-01", ""),
    ]
    assert refused("roster", csv_file("roster", rows)) == [
        "第 3 列：服務期間與第 2 列重疊（同一人同一天只能在一個單位服務）"
    ]


def test_import_refuses_a_period_overlapping_one_in_the_database(school, other_school, csv_file, refused):
    from accounts.models import Person

    person = Person(name="王小明")
    person.set_national_id(ID1)
    person.save()
    Membership.objects.create(person=person, unit=other_school, start_date=dt.date(2018, 8, 1))
    rows = [roster_row(ID1, school, "2010-08-01", "2019-07-31")]
    errors = refused("roster", csv_file("roster", rows))
    assert errors == [f"第 2 列：服務期間與已登錄的服務紀錄（{other_school.name}，2018-08-01 起）重疊"]


def test_import_records_data_import_where_the_file_gives_no_reason(school, other_school, csv_file):
    from tests.dataexchange.conftest import run

    rows = [roster_row(ID1, school, "2010-08-01", "2020-07-31"), roster_row(ID1, other_school, "2020-08-01")]
    assert run("import_data", "roster", csv_file("roster", rows)).error is None
    ended, current = Membership.objects.order_by("start_date")
    assert (ended.end_reason, current.end_reason) == (EndReason.IMPORTED, None)


def test_import_takes_the_optional_end_reason_column(school, other_school, csv_file):
    from tests.dataexchange.conftest import run

    rows = [
        roster_row(ID1, school, "2010-08-01", "2020-07-31", "轉校"),
        roster_row(ID1, other_school, "2020-08-01", "", ""),
        roster_row(ID2, school, "1990-08-01", "2020-07-31", "退休", name="陳退休"),
    ]
    path = csv_file("roster", rows, header=[*HEADER, "end_reason"])
    assert run("import_data", "roster", path).error is None, path
    assert set(Membership.objects.values_list("end_reason", flat=True)) == {"轉校", "退休", None}
    # Importing the same file without the column keeps the reasons already held for those dates.
    plain = csv_file("roster", [r[:9] for r in rows], name="plain.csv")
    assert run("import_data", "roster", plain).error is None
    assert set(Membership.objects.values_list("end_reason", flat=True)) == {"轉校", "退休", None}


def test_import_refuses_an_unknown_or_dangling_end_reason(school, csv_file, refused):
    rows = [
        roster_row(ID1, school, "2010-08-01", "2020-07-31", "調校"),
        roster_row(ID2, school, "2010-08-01", "", "退休", name="陳退休"),
    ]
    assert refused("roster", csv_file("roster", rows, header=[*HEADER, "end_reason"])) == [
        "第 2 列：end_reason 不是有效的異動原因（離職、轉校、退休、資料匯入或更正）",
        "第 3 列：有 end_reason 但 end_date 空白",
    ]
