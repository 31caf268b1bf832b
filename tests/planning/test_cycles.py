"""進修規劃年度 in the portal (issue 20 point 2): copy from last year, ROC dates and times, errors in
words, every change recorded with old and new values and who made it; nobody else may touch it."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core import roc
from core.forms import RocDateTimeField
from core.refusals import Kind
from planning import cycles
from planning.models import TAIPEI, PlanKind, PlanningCycle, PlanningWindow, RosterSnapshot
from planning.services import PlanningError
from tests.helpers import refusal_of, refused_page, signed_in_client

pytestmark = pytest.mark.django_db


def _copy(operator) -> PlanningCycle:
    response = signed_in_client(operator).post(reverse("planning:cycle-copy"))
    assert response.status_code == 302
    return PlanningCycle.objects.order_by("-year").first()


def test_copying_makes_next_year_with_every_window_a_year_later(operator):
    source = PlanningCycle.objects.order_by("-year").first()
    before = {(w.kind, w.authority_id): w for w in source.windows.all()}
    assert before, "the shipped cycle has windows"

    cycle = _copy(operator)

    assert cycle.year == source.year + 1
    assert cycle.roster_cutoff == source.roster_cutoff.replace(year=source.roster_cutoff.year + 1)
    after = {(w.kind, w.authority_id): w for w in cycle.windows.all()}
    assert after.keys() == before.keys()
    for key, window in after.items():
        assert window.first_day == before[key].first_day.replace(year=before[key].first_day.year + 1)
        assert window.last_day == before[key].last_day.replace(year=before[key].last_day.year + 1)
        assert window.phase == before[key].phase
    # The source is untouched, and the copy is in the change log, by the operator.
    assert source.windows.count() == len(before)
    created = LogEntry.objects.get_for_objects(cycle.windows.all())
    assert created.count() == len(after)
    assert {entry.actor_id for entry in created} == {operator.pk}


def test_with_no_cycle_to_copy_the_operator_is_told_in_words(operator):
    PlanningCycle.objects.all().delete()
    response = signed_in_client(operator).post(reverse("planning:cycle-copy"))
    assert "尚無任何進修規劃年度可複製" in refused_page(response, 409, "nothing_to_copy")
    assert not PlanningCycle.objects.exists()


def test_a_window_is_edited_in_roc_dates_and_the_change_is_listed_with_old_and_new_values(operator):
    cycle = _copy(operator)
    window = cycle.windows.filter(kind=PlanKind.SCHOOL).select_related("authority").first()
    old_first, old_last = window.first_day, window.last_day
    client = signed_in_client(operator)

    response = client.post(
        reverse("planning:window-edit", args=[window.pk]),
        {"first_day": "114/9/1", "last_day": "114年9月30日", "phase": ""},
    )

    assert response.status_code == 302
    window.refresh_from_db()
    assert (window.first_day, window.last_day) == (dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    entry = LogEntry.objects.get_for_object(window).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor_id == operator.pk
    log = client.get(reverse("planning:cycle-log")).content.decode()
    assert roc.format_roc_date(old_first) in log and "114年9月1日" in log
    assert roc.format_roc_date(old_last) in log and "114年9月30日" in log
    assert window.authority.name in log and operator.username in log


def test_a_bad_range_is_explained_in_words_and_changes_nothing(operator):
    cycle = _copy(operator)
    window = cycle.windows.first()
    before = (window.first_day, window.last_day)
    response = signed_in_client(operator).post(
        reverse("planning:window-edit", args=[window.pk]), {"first_day": "114/9/30", "last_day": "114/9/1"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "截止日期（114年9月1日）不可早於開始日期（114年9月30日）" in body
    assert "window_last_day_not_before_first" not in body
    window.refresh_from_db()
    assert (window.first_day, window.last_day) == before
    # The service says the same to any caller that skips the form.
    refused = refusal_of(
        lambda: cycles.window_save(
            actor=operator,
            cycle_id=cycle.pk,
            window_id=window.pk,
            kind=window.kind,
            authority_id=window.authority_id,
            phase=None,
            first_day=dt.date(2025, 9, 30),
            last_day=dt.date(2025, 9, 1),
        ),
        PlanningError,
    )
    assert (refused.code, refused.kind) == ("end_before_start", Kind.INVALID)
    assert "截止日期（114年9月1日）不可早於開始日期（114年9月30日）" in str(refused.message)
    window.refresh_from_db()
    assert (window.first_day, window.last_day) == before


def test_a_second_window_for_the_same_authority_and_kind_is_refused_in_words(operator):
    cycle = _copy(operator)
    window = cycle.windows.select_related("authority").first()
    count = cycle.windows.count()
    response = signed_in_client(operator).post(
        reverse("planning:window-new", args=[cycle.year]),
        {
            "kind": window.kind,
            "authority": window.authority_id,
            "first_day": "114/9/1",
            "last_day": "114/9/2",
        },
    )
    body = refused_page(response, 409, "window_exists")
    assert f"{window.authority.name} 在 {cycle.year} 學年度已有" in body
    assert "one_window_per_authority" not in body
    assert cycle.windows.count() == count


def test_the_cut_off_takes_a_roc_date_and_time_and_is_logged(operator):
    cycle = _copy(operator)
    RosterSnapshot.objects.filter(cycle=cycle).delete()
    response = signed_in_client(operator).post(
        reverse("planning:cycle", args=[cycle.year]),
        {"roster_cutoff": "114/8/10 09:30"},
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.roster_cutoff == dt.datetime(2025, 8, 10, 9, 30, tzinfo=TAIPEI)
    log = signed_in_client(operator).get(reverse("planning:cycle-log")).content.decode()
    assert "114年8月10日 09:30" in log


def test_a_bad_time_is_explained_and_changes_nothing(operator):
    cycle = _copy(operator)
    before = cycle.roster_cutoff
    response = signed_in_client(operator).post(
        reverse("planning:cycle", args=[cycle.year]), {"roster_cutoff": "114/8/10"}
    )
    assert response.status_code == 200
    assert "請輸入正確的日期與時間" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.roster_cutoff == before


def test_after_the_snapshot_the_cut_off_cannot_change(operator):
    cycle = PlanningCycle.objects.order_by("-year").first()
    RosterSnapshot.objects.get_or_create(cycle=cycle)
    before = cycle.roster_cutoff
    logged = LogEntry.objects.count()
    refused = refusal_of(
        lambda: cycles.cycle_update(
            actor=operator,
            cycle_id=cycle.pk,
            roster_cutoff=before + dt.timedelta(days=1),
        ),
        PlanningError,
    )
    assert (refused.code, refused.kind) == ("snapshot_taken", Kind.CONFLICT)
    response = signed_in_client(operator).post(
        reverse("planning:cycle", args=[cycle.year]), {"roster_cutoff": "113/8/10 09:30"}
    )
    body = refused_page(response, 409, "snapshot_taken")
    assert "教師名單快照已於" in body and "教師名單截止時間不能再變更" in body
    cycle.refresh_from_db()
    assert cycle.roster_cutoff == before and LogEntry.objects.count() == logged


def test_a_unit_that_is_not_an_authority_is_refused_by_the_service_and_nothing_is_added(operator, school):
    cycle = PlanningCycle.objects.order_by("-year").first()
    count = PlanningWindow.objects.count()
    refused = refusal_of(
        lambda: cycles.window_save(
            actor=operator,
            cycle_id=cycle.pk,
            window_id=None,
            kind=PlanKind.SCHOOL,
            authority_id=school.pk,
            phase=None,
            first_day=dt.date(2025, 9, 1),
            last_day=dt.date(2025, 9, 2),
        ),
        PlanningError,
    )
    assert (refused.code, refused.kind, str(refused.message)) == (
        "not_authority",
        Kind.INVALID,
        "請選擇一個主管機關。",
    )
    assert PlanningWindow.objects.count() == count


def test_two_operators_adding_the_same_window_at_once_the_second_is_told_in_words(operator, monkeypatch):
    """The database keeps one window per authority and kind: the later writer's check saw none yet."""
    cycle = PlanningCycle.objects.order_by("-year").first()
    window = cycle.windows.first()
    count = PlanningWindow.objects.count()
    monkeypatch.setattr(
        cycles, "_check_window", lambda *args, **kwargs: None
    )  # both checked before either wrote
    response = signed_in_client(operator).post(
        reverse("planning:window-new", args=[cycle.year]),
        {
            "kind": window.kind,
            "authority": window.authority_id,
            "first_day": "113/9/1",
            "last_day": "113/9/2",
        },
    )
    assert "資料已被其他人同時修改" in refused_page(response, 409, "concurrent_change")
    assert PlanningWindow.objects.count() == count


def test_a_window_deleted_meanwhile_is_not_found(operator):
    cycle = PlanningCycle.objects.order_by("-year").first()
    window = cycle.windows.first()
    PlanningWindow.objects.filter(pk=window.pk).delete()
    refused = refusal_of(lambda: cycles.window_delete(actor=operator, window_id=window.pk), PlanningError)
    assert (refused.code, refused.kind) == ("window_not_visible", Kind.NOT_VISIBLE)
    refused = refusal_of(
        lambda: cycles.window_save(
            actor=operator,
            cycle_id=cycle.pk,
            window_id=window.pk,
            kind=window.kind,
            authority_id=window.authority_id,
            phase=None,
            first_day=window.first_day,
            last_day=window.last_day,
        ),
        PlanningError,
    )
    assert refused.code == "window_not_visible"
    assert not PlanningWindow.objects.filter(pk=window.pk).exists()
    client = signed_in_client(operator)
    assert client.post(reverse("planning:window-delete", args=[window.pk])).status_code == 404
    assert client.post(reverse("planning:window-edit", args=[window.pk]), {}).status_code == 404


@pytest.mark.parametrize("role", ["centre", "chief", "teacher"])
def test_nobody_but_the_operator_reaches_the_cycle_pages(role, request):
    actor = request.getfixturevalue(role)
    cycle = PlanningCycle.objects.order_by("-year").first()
    window = cycle.windows.first()
    client = signed_in_client(actor)
    count = PlanningCycle.objects.count()
    for url in (
        reverse("planning:cycles"),
        reverse("planning:cycle-log"),
        reverse("planning:cycle", args=[cycle.year]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("planning:cycle-copy")).status_code == 403
    assert (
        client.post(
            reverse("planning:window-edit", args=[window.pk]), {"first_day": "113/1/1", "last_day": "113/1/2"}
        ).status_code
        == 403
    )
    assert client.post(reverse("planning:window-delete", args=[window.pk])).status_code == 403
    assert PlanningCycle.objects.count() == count
    assert PlanningWindow.objects.filter(pk=window.pk, first_day=window.first_day).exists()
    with pytest.raises(PermissionDenied):  # the service itself asks the permission
        cycles.cycle_copy(actor=actor)


def test_deleting_a_window_asks_first_and_is_logged(operator):
    cycle = _copy(operator)
    window = cycle.windows.select_related("authority").first()
    client = signed_in_client(operator)
    assert "確定要刪除" in client.get(reverse("planning:window-delete", args=[window.pk])).content.decode()
    assert client.post(reverse("planning:window-delete", args=[window.pk])).status_code == 302
    assert not PlanningWindow.objects.filter(pk=window.pk).exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE, object_pk=str(window.pk)).exists()


def test_the_roc_datetime_field_reads_roc_and_iso_and_shows_roc():
    field = RocDateTimeField()
    assert field.clean("115/7/31 17:00") == dt.datetime(2026, 7, 31, 17, 0, tzinfo=TAIPEI)
    assert field.clean("2026-07-31 08:05") == dt.datetime(2026, 7, 31, 8, 5, tzinfo=TAIPEI)
    assert field.widget.format_value(dt.datetime(2026, 7, 31, 9, 0, tzinfo=dt.UTC)) == "115年7月31日 17:00"
    for bad in ("115/7/31", "115/2/30 10:00", "115/7/31 25:00"):
        with pytest.raises(Exception, match="請輸入正確的日期與時間"):
            field.clean(bad)


def test_authorities_only_in_the_window_form(operator, school):
    cycle = _copy(operator)
    response = signed_in_client(operator).post(
        reverse("planning:window-new", args=[cycle.year]),
        {"kind": "school", "authority": school.pk, "first_day": "114/9/1", "last_day": "114/9/2"},
    )
    assert response.status_code == 200
    assert "請選擇清單中的主管機關" in response.content.decode()
