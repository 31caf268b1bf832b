"""教師名單 at the cut-off (issue 12 point 2): its own table, independent of later changes, rerun-safe."""

import datetime as dt

from django.core.management import call_command

from accounts.models import Stage
from planning import services, tasks
from planning.models import PlanningCycle, RosterSnapshot, SnapshotEntry
from teachers.models import Category, Membership, Subject
from tests.factories import MembershipFactory, SchoolFactory
from tests.planning.conftest import taipei


def _entries():
    return sorted(
        SnapshotEntry.objects.values_list("person_id", "school_id", "category", "title", "subjects")
    )


def test_snapshot_copies_in_scope_schools_as_they_stood_at_the_cut_off(teacher, school, authority):
    membership = Membership.objects.get(person=teacher.person)
    membership.subjects.add(
        Subject.objects.get_or_create(name="國語")[0], Subject.objects.get_or_create(name="數學")[0]
    )
    staff = MembershipFactory(unit=school, category=Category.STAFF, title="幹事")
    MembershipFactory(unit=SchoolFactory(authority=authority, stage=Stage.KINDERGARTEN))  # out of scope
    MembershipFactory(unit=school, start_date=dt.date(2024, 8, 3))  # joined after the cut-off
    MembershipFactory(unit=school, end_date=dt.date(2024, 7, 31))  # left before it
    cycle = PlanningCycle.objects.get(year=113)
    _snapshot, written = services.roster_snapshot_take(cycle_id=cycle.pk)
    assert written == 2
    assert _entries() == sorted(
        [
            (teacher.person_id, school.pk, "教師", "教師", "國語；數學"),
            (staff.person_id, school.pk, "行政職員", "幹事", ""),
        ]
    )


def test_later_roster_changes_do_not_alter_the_snapshot_and_a_rerun_changes_nothing(teacher, school):
    cycle = PlanningCycle.objects.get(year=113)
    services.roster_snapshot_take(cycle_id=cycle.pk)
    before = _entries()
    Membership.objects.filter(person=teacher.person).update(
        title="教務主任", end_date=dt.date(2024, 9, 1), end_reason="轉校"
    )
    MembershipFactory(unit=school)
    _snapshot, written = services.roster_snapshot_take(cycle_id=cycle.pk)
    assert written == 0
    call_command("snapshot_roster", "113")
    assert _entries() == before
    assert RosterSnapshot.objects.count() == 1


def test_the_scheduled_task_acts_only_once_the_cut_off_has_passed(teacher, clock):
    clock(taipei(2024, 8, 2, 16, 59, 59))
    assert services.roster_snapshots_take_due() == []
    clock(taipei(2024, 8, 2, 17, 0, 0))
    assert tasks.take_due_roster_snapshots() == [PlanningCycle.objects.get(year=113).pk]
    assert tasks.take_due_roster_snapshots() == []
    assert SnapshotEntry.objects.count() == 1


def test_the_school_sees_which_of_its_teachers_have_submitted(chief, teacher, school, clock):
    from planning.models import TeacherPlan
    from tests.factories import MembershipFactory as Member
    from tests.helpers import signed_in_client

    other = Member(unit=school).person
    services.roster_snapshot_take(cycle_id=PlanningCycle.objects.get(year=113).pk)
    TeacherPlan.objects.create(
        person=teacher.person, year=113, school=school, submitted_at=taipei(2024, 9, 18, 9)
    )
    clock(taipei(2024, 8, 16, 9))
    page = signed_in_client(chief).get("/unit/plan/").content.decode()
    rows = {line for line in page.splitlines() if '<th scope="row">' in line and "</tr>" in line}
    assert any(teacher.person.masked_name in row and "已確認送出" in row for row in rows)
    assert any(other.masked_name in row and "尚未送出" in row for row in rows)
    assert teacher.person.name not in page  # names are masked in lists


# Issue 20 point 3: the snapshot cannot be emptied by accident ------------------------------------


def test_the_admin_cannot_create_a_snapshot_by_hand(operator):
    from django.urls import reverse

    from tests.helpers import signed_in_client

    admin = signed_in_client(operator)
    cycle = PlanningCycle.objects.get(year=113)
    assert admin.get(reverse("admin:planning_rostersnapshot_add")).status_code == 403
    response = admin.post(reverse("admin:planning_rostersnapshot_add"), {"cycle": cycle.pk})
    assert response.status_code == 403
    assert not RosterSnapshot.objects.exists()


def test_a_snapshot_is_read_only_and_deleting_it_is_refused_once_the_first_window_opened(
    operator, teacher, clock
):
    from django.urls import reverse

    from tests.helpers import signed_in_client
    from tests.planning.conftest import SCHOOL_OPENS

    cycle = PlanningCycle.objects.get(year=113)
    snapshot, _written = services.roster_snapshot_take(cycle_id=cycle.pk)
    first_open = cycle.windows.order_by("first_day").first().opens_at
    assert first_open <= SCHOOL_OPENS
    admin = signed_in_client(operator)
    change = reverse("admin:planning_rostersnapshot_change", args=[snapshot.pk])
    delete = reverse("admin:planning_rostersnapshot_delete", args=[snapshot.pk])
    changelist = reverse("admin:planning_rostersnapshot_changelist")

    clock(first_open)
    assert admin.post(change, {"cycle": cycle.pk}).status_code == 403
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    # No bulk delete either: the action that would skip the per-snapshot rule is gone.
    response = admin.post(
        changelist, {"action": "delete_selected", "_selected_action": [snapshot.pk], "post": "yes"}
    )
    assert RosterSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert SnapshotEntry.objects.filter(snapshot=snapshot).count() == 1
    assert "delete_selected" not in admin.get(changelist).content.decode()
    assert response.status_code in (200, 302)

    clock(first_open - dt.timedelta(microseconds=1))
    assert admin.get(delete).status_code == 200
    admin.post(delete, {"post": "yes"})
    assert not RosterSnapshot.objects.filter(pk=snapshot.pk).exists()


def test_snapshot_roster_prints_the_taken_time_in_asia_taipei(teacher):
    import io

    from django.utils import timezone

    from core.roc import format_roc_datetime

    cycle = PlanningCycle.objects.get(year=113)
    snapshot, _written = services.roster_snapshot_take(cycle_id=cycle.pk)
    RosterSnapshot.objects.filter(pk=snapshot.pk).update(
        taken_at=dt.datetime(2024, 8, 2, 9, 0, tzinfo=dt.UTC)
    )
    out = io.StringIO()
    call_command("snapshot_roster", "113", stdout=out)
    assert "113年8月2日 17:00" in out.getvalue()  # 09:00 UTC is 17:00 in Taipei
    assert (
        format_roc_datetime(timezone.localtime(dt.datetime(2024, 8, 2, 9, 0, tzinfo=dt.UTC)))
        in out.getvalue()
    )
    assert "1 筆" in out.getvalue()
