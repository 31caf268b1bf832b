import datetime as dt

import pytest

from accounts.models import Person
from teachers.importers import PHASE_MEMBERSHIPS, PHASE_MEMBERSHIPS_BULK
from teachers.models import Category, Membership, Subject
from tests.dataexchange.conftest import (
    constraints_and_indexes,
    imported,
    phase_names,
    postgresql_only,
    run,
    snapshot,
)
from tests.factories import MembershipFactory, PersonFactory, SchoolFactory, valid_national_id

pytestmark = pytest.mark.django_db

ID1, ID2, ID3 = valid_national_id(1), valid_national_id(2), valid_national_id(3)


@pytest.fixture
def schools(authority):
    return SchoolFactory(code="136601", authority=authority), SchoolFactory(
        code="136602", authority=authority
    )


def rows():
    return [
        [
            ID1,
            "王小明",
            "ming@example.org",
            "136601",
            "教師",
            "教師",
            "數學;自然科學",
            "2010-08-01",
            "2019-07-31",
        ],
        [ID1, "王小明", "ming@example.org", "136602", "教師", "導師", "數學", "2019-08-01", ""],
        [ID2, "李大華", "", "136601", "行政職員", "幹事", "", "2015-08-01", ""],
        [ID3, "陳退休", "", "136602", "教師", "教師", "國語文", "1990-08-01", "2020-07-31"],
    ]


def test_roster_creates_people_without_accounts_and_their_service_history(schools, csv_file):
    result = run("import_data", "roster", csv_file("roster", rows()))
    assert result.error is None, result.stderr
    ming = Person.objects.by_national_id(ID1).get()
    assert ming.name == "王小明" and ming.reveal_national_id() == ID1
    assert not ming.users.exists()  # 帳號狀況 待申請
    history = list(ming.memberships.order_by("start_date"))
    assert [(m.unit.code, m.end_date) for m in history] == [
        ("136601", dt.date(2019, 7, 31)),
        ("136602", None),
    ]
    assert sorted(s.name for s in history[0].subjects.all()) == ["數學", "自然科學"]
    assert Membership.objects.get(person__name="李大華").category == Category.STAFF
    assert Membership.objects.current().filter(person__name="陳退休").count() == 0
    assert {"數學", "自然科學", "國語文"} <= set(Subject.objects.values_list("name", flat=True))


def test_roster_import_twice_changes_nothing(schools, csv_file):
    path = csv_file("roster", rows())
    run("import_data", "roster", path)
    before = snapshot()
    result = imported("roster", path)
    assert result.counts == {"people_created": 0, "memberships_created": 0, "memberships_updated": 0}
    assert snapshot() == before


def test_the_command_reports_counts_in_zh_hant(schools, csv_file):
    result = run("import_data", "roster", csv_file("roster", rows()))
    assert result.error is None, result.stderr
    assert "人員名冊（roster）匯入完成" in result.stdout
    assert "新增人員 3、新增服務紀錄 4、更新服務紀錄 0" in result.stdout
    assert "people_created" not in result.stdout


def test_an_existing_membership_takes_the_files_end_date_and_subjects(schools, csv_file):
    run("import_data", "roster", csv_file("roster", rows()))
    changed = rows()
    changed[2][8] = "2024-07-31"
    changed[2][6] = "健康與體育"
    result = imported("roster", csv_file("roster", changed, name="later.csv"))
    assert result.counts["memberships_updated"] == 1
    staff = Membership.objects.get(person__name="李大華")
    assert staff.end_date == dt.date(2024, 7, 31)
    assert [s.name for s in staff.subjects.all()] == ["健康與體育"]


def test_without_bulk_the_ordinary_path_keeps_the_indexes(schools, csv_file):
    result = imported("roster", csv_file("roster", rows()))
    assert PHASE_MEMBERSHIPS in phase_names(result)
    assert PHASE_MEMBERSHIPS_BULK not in phase_names(result)


@postgresql_only
def test_bulk_path_loads_updates_and_keeps_every_index_and_constraint(schools, csv_file):
    tables = (Membership, Membership.subjects.through)
    before = constraints_and_indexes(*tables)
    # The no-overlap exclusion constraint is among them: dropped for the load, rebuilt after it.
    assert "membership_no_overlap" in {name for _table, name, *_rest in before}
    result = imported("roster", csv_file("roster", rows()), bulk=True)
    assert PHASE_MEMBERSHIPS_BULK in phase_names(result)
    assert PHASE_MEMBERSHIPS not in phase_names(result)
    changed = rows()
    changed[2][8] = "2024-07-31"
    changed[0][6] = "數學;健康與體育"
    result = imported("roster", csv_file("roster", changed, name="later.csv"), bulk=True)
    assert result.counts == {"people_created": 0, "memberships_created": 0, "memberships_updated": 1}
    assert constraints_and_indexes(*tables) == before
    first = Membership.objects.get(person__name="王小明", unit__code="136601")
    assert sorted(s.name for s in first.subjects.all()) == ["健康與體育", "數學"]
    assert Membership.objects.get(person__name="李大華").end_date == dt.date(2024, 7, 31)
    assert Membership.subjects.through.objects.count() == 4


def test_bad_national_id_checksum_is_refused_without_echoing_the_number(schools, csv_file, refused):
    bad = ID2[:-1] + str((int(ID2[-1]) + 1) % 10)
    data = rows()
    data[2][0] = bad
    lines = refused("roster", csv_file("roster", data))
    assert lines == ["第 4 列：身分證字號或居留證號檢查碼不正確。"]
    assert all(bad not in line for line in lines)


def test_bad_national_id_format_is_refused(schools, csv_file, refused):
    data = rows()
    data[0][0] = "12345"
    assert refused("roster", csv_file("roster", data)) == ["第 2 列：身分證字號或居留證號格式不正確。"]


def test_unknown_unit_is_refused(schools, csv_file, refused):
    data = rows()
    data[3][3] = "999999"
    assert refused("roster", csv_file("roster", data)) == ["第 5 列：unit_code 不是已知的單位"]


def test_unknown_category_is_refused(schools, csv_file, refused):
    data = rows()
    data[2][4] = "工友"
    assert refused("roster", csv_file("roster", data)) == [
        "第 4 列：category 不是有效的類別（教師或行政職員）"
    ]


def test_bad_date_is_refused(schools, csv_file, refused):
    data = rows()
    data[0][7] = "2010/08/01"
    data[1][8] = "2024-02-30"
    assert refused("roster", csv_file("roster", data)) == [
        "第 2 列：start_date 日期格式不正確（應為 YYYY-MM-DD）",
        "第 3 列：end_date 日期格式不正確（應為 YYYY-MM-DD）",
    ]


def test_end_before_start_is_refused(schools, csv_file, refused):
    data = rows()
    data[3][8] = "1989-07-31"
    assert refused("roster", csv_file("roster", data)) == ["第 5 列：end_date 早於 start_date"]


def test_two_open_memberships_are_a_row_error_not_an_integrity_error(schools, csv_file, refused):
    data = rows()
    data[0][8] = ""
    assert refused("roster", csv_file("roster", data)) == [
        "第 2 列：同一人有一筆以上未結束的服務紀錄（end_date 空白）",
        "第 3 列：同一人有一筆以上未結束的服務紀錄（end_date 空白）",
    ]


def test_an_open_membership_in_the_database_counts(schools, csv_file, refused):
    person = PersonFactory(name="李大華", national_id_value=ID2)
    MembershipFactory(person=person, unit=schools[1], start_date=dt.date(2000, 8, 1))
    assert refused("roster", csv_file("roster", rows())) == [
        "第 4 列：同一人有一筆以上未結束的服務紀錄（end_date 空白）"
    ]


def test_a_different_name_for_a_registered_person_is_refused(schools, csv_file, refused):
    PersonFactory(name="李大同", national_id_value=ID2)
    assert refused("roster", csv_file("roster", rows())) == [
        "第 4 列：此身分證字號已登錄為「李O同」，name 不同"
    ]


def test_rows_of_one_person_must_agree_on_name(schools, csv_file, refused):
    data = rows()
    data[1][1] = "王小民"
    assert refused("roster", csv_file("roster", data)) == ["第 3 列：同一身分證字號的 name 與第 2 列不同"]


def test_the_same_membership_twice_is_refused(schools, csv_file, refused):
    data = rows()
    data.append(list(data[3]))
    assert refused("roster", csv_file("roster", data)) == [
        "第 6 列：與第 5 列重複（同一人、同一單位、同一 start_date）"
    ]


def test_export_roster_round_trip(schools, csv_file, tmp_path):
    run("import_data", "roster", csv_file("roster", rows()))
    out = tmp_path / "roster-out.csv"
    assert run("export_data", "roster", out).error is None
    import csv

    with open(out, encoding="utf-8-sig") as f:
        exported = {tuple(r) for r in list(csv.reader(f))[1:]}
    expected = {tuple(r) for r in rows()}
    expected = {r[:6] + (";".join(sorted(r[6].split(";"))) if r[6] else "",) + r[7:] for r in expected}
    assert exported == expected


def test_full_width_digits_name_the_same_person(schools, csv_file):
    full_width = ID1[:1] + "".join(chr(ord(c) + 0xFEE0) for c in ID1[1:])
    data = rows()
    data[1][0] = full_width  # typed data: Ａ１２３…
    result = run("import_data", "roster", csv_file("roster", data))
    assert result.error is None, result.stderr
    assert Person.objects.count() == 3
    assert Person.objects.by_national_id(ID1).get().memberships.count() == 2


def test_an_email_longer_than_the_column_is_refused(schools, csv_file, refused):
    data = rows()
    data[2][2] = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".tw"
    assert refused("roster", csv_file("roster", data)) == ["第 4 列：email 超過 254 字"]


@pytest.mark.parametrize(
    "address",
    ["a@b.tw", "li.hua@school.edu.tw", "x_y%z+q-@x1.y2.com", "a..b@c.tw", ".a@b.tw", "a.@b.tw", "a@-b.tw",
     "a@b-.tw", "a@b..tw", "a@b.t"],
)  # fmt: skip
def test_the_fast_email_check_accepts_only_what_the_full_validator_accepts(address):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from teachers.importers import PLAIN_EMAIL_RE

    if PLAIN_EMAIL_RE.match(address):
        validate_email(address)  # raises if the fast path let through what Django refuses
    else:  # the rest takes the full validator, which refuses these
        with pytest.raises(ValidationError):
            validate_email(address)


def test_an_imported_address_is_vouched_for_by_the_unit_of_the_persons_open_row(schools, csv_file):
    """teachers.trust: the operator's import records the open row's unit as the address's writer
    (one join per file, not a look-up per person; issue 22 point 3)."""
    result = run("import_data", "roster", csv_file("roster", rows()))
    assert result.error is None, result.stderr
    ming = Person.objects.by_national_id(ID1).get()
    assert ming.email_unit.code == "136602"  # the open row's unit, not the ended row's 136601
    retired = Person.objects.by_national_id(ID3).get()
    assert retired.email == "" and retired.email_unit is None
