"""Issue 16 point 4 and issue 19 point 5: 教師資料登錄 cannot rewrite history, asks before moving
someone, tells the old unit, is throttled and audited; 離職/轉校/退休 checks its date first and a
unit can undo its own recent ending."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import BusinessAccountType, Person, SecurityEvent, SecurityEventKind
from teachers import services
from teachers.models import EndReason, Membership
from tests.factories import BusinessAccountFactory, valid_national_id
from tests.helpers import signed_in_client

from .conftest import member

pytestmark = pytest.mark.django_db

REGISTER = "/unit/teachers/register/"


def register(client, nid, name, start=None, **extra):
    data = {
        "national_id": nid,
        "name": name,
        "category": "教師",
        "title": "教師",
        "start_date": (start or timezone.localdate()).isoformat(),
        **extra,
    }
    return client.post(REGISTER, data)


def confirm(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(REGISTER, {"step": "confirm"})


def memberships():
    return sorted(Membership.objects.values_list("pk", "unit_id", "start_date", "end_date", "end_reason"))


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def elsewhere(other_school):
    """A teacher serving at another school of the same authority since 2015."""
    return member(other_school, name="張轉入", email="chang@other.example", start=dt.date(2015, 8, 1))


# ------------------------------------------------------------------------------------------------
# The start date of a move


def test_a_move_eleven_years_back_is_refused_and_points_to_the_operators_correction(chief, elsewhere):
    before = memberships()
    response = register(
        signed_in_client(chief), elsewhere.person.reveal_national_id(), "張轉入", start=dt.date(2016, 8, 1)
    )
    assert response.status_code == 400  # input the service refuses (core.refusals.Kind.INVALID)
    text = response.content.decode()
    assert str(services.MSG_START_TOO_EARLY % {"days": 30}) in text and "人員資料更正" in text
    assert "確認轉入本單位" not in text  # refused before the confirmation step
    assert memberships() == before


def test_a_move_31_days_back_is_refused_and_30_days_back_is_allowed(
    chief, school, elsewhere, django_capture_on_commit_callbacks
):
    client = signed_in_client(chief)
    nid = elsewhere.person.reveal_national_id()
    today = timezone.localdate()
    assert register(client, nid, "張轉入", start=today - dt.timedelta(days=31)).status_code == 400
    assert register(client, nid, "張轉入", start=today - dt.timedelta(days=30)).status_code == 200
    assert confirm(client, django_capture_on_commit_callbacks).status_code == 302
    current = elsewhere.person.memberships.get(end_date__isnull=True)
    assert (current.unit, current.start_date) == (school, today - dt.timedelta(days=30))


def test_a_move_never_starts_before_the_old_membership(chief, other_school):
    recent = member(other_school, name="新到任", start=timezone.localdate() - dt.timedelta(days=5))
    before = memberships()
    response = register(
        signed_in_client(chief),
        recent.person.reveal_national_id(),
        "新到任",
        start=timezone.localdate() - dt.timedelta(days=10),
    )
    assert response.status_code == 409
    assert str(services.MSG_START_BEFORE_PREVIOUS) in response.content.decode()
    assert memberships() == before


# ------------------------------------------------------------------------------------------------
# The confirmation step and the old unit's e-mail


def test_the_confirmation_shows_the_masked_name_and_only_that_they_serve_elsewhere(
    chief, other_school, elsewhere
):
    before = memberships()
    nid = elsewhere.person.reveal_national_id()
    response = register(signed_in_client(chief), nid, "張轉入")
    text = response.content.decode()
    assert response.status_code == 200
    assert "張O入" in text and "其他單位" in text and "確認轉入本單位" in text
    for leak in (other_school.name, other_school.code, nid, "張轉入", "2015"):
        assert leak not in text, leak
    assert memberships() == before  # nothing moves before the confirmation


def test_the_old_unit_is_mailed_when_the_move_is_made(
    chief, school, other_school, elsewhere, django_capture_on_commit_callbacks
):
    old_chief = BusinessAccountFactory(unit=other_school, type=BusinessAccountType.CHIEF).user
    old_contact = BusinessAccountFactory(unit=other_school, type=BusinessAccountType.CONTACT).user
    client = signed_in_client(chief)
    register(client, elsewhere.person.reveal_national_id(), "張轉入")
    assert mail.outbox == []
    confirm(client, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert sorted(message.to) == sorted([old_chief.email, old_contact.email])
    assert "張O入" in message.body and school.name in message.body
    assert elsewhere.person.reveal_national_id() not in message.body and "張轉入" not in message.body


def test_a_cancelled_confirmation_moves_nobody(chief, elsewhere):
    client = signed_in_client(chief)
    register(client, elsewhere.person.reveal_national_id(), "張轉入")
    before = memberships()
    client.get(reverse("teachers:roster"))
    assert memberships() == before
    assert elsewhere.person.memberships.get(end_date__isnull=True).unit_id == elsewhere.unit_id


def test_the_service_refuses_a_move_without_confirmation(chief, school, elsewhere):
    with pytest.raises(services.MoveNeedsConfirmation) as asked:
        services.teacher_register(
            actor=chief,
            unit=school,
            national_id=elsewhere.person.reveal_national_id(),
            name="張轉入",
            start_date=timezone.localdate(),
        )
    assert asked.value.masked_name == "張O入"
    assert elsewhere.person.memberships.get(end_date__isnull=True).unit_id == elsewhere.unit_id


# ------------------------------------------------------------------------------------------------
# New people, names, look-ups


def test_a_new_teacher_is_registered_with_who_did_it(chief, school):
    nid = valid_national_id(4401)
    assert register(signed_in_client(chief), nid, "林新進").status_code == 302
    person = Person.objects.by_national_id(nid).get()
    for model, pk in ((Person, person.pk), (Membership, person.memberships.get().pk)):
        entry = LogEntry.objects.get(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(pk),
            action=LogEntry.Action.CREATE,
        )
        assert entry.actor == chief


def test_an_existing_persons_name_is_never_changed(chief, elsewhere):
    response = register(signed_in_client(chief), elsewhere.person.reveal_national_id(), "張改名")
    assert response.status_code == 409
    assert Person.objects.get(pk=elsewhere.person_id).name == "張轉入"


def test_look_ups_are_audited_without_the_id_and_throttled(chief, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "teacher_register_lookup": "2/h/user"}
    client = signed_in_client(chief)
    nids = [valid_national_id(4500 + n) for n in range(3)]
    assert register(client, nids[0], "甲").status_code == 302
    assert register(client, nids[1], "乙").status_code == 302
    refused = register(client, nids[2], "丙")
    assert refused.status_code == 429
    assert not Person.objects.by_national_id(nids[2]).exists()
    events = SecurityEvent.objects.filter(kind=SecurityEventKind.ROSTER_LOOKUP)
    assert events.count() == 2 and {e.user for e in events} == {chief}
    for event in events:
        assert not any(nid in f"{event.username}{event.path}" for nid in nids)


# ------------------------------------------------------------------------------------------------
# 離職/轉校/退休: the date first, and undo


def end_url(membership):
    return reverse("teachers:end", args=[membership.pk])


@pytest.mark.parametrize("offset", [1, None])
def test_the_end_date_is_checked_before_the_confirmation_step(chief, school, offset):
    leaving = member(school, start=dt.date(2020, 8, 1))
    day = timezone.localdate() + dt.timedelta(days=1) if offset else dt.date(2019, 7, 31)
    response = signed_in_client(chief).post(
        end_url(leaving), {"reason": EndReason.LEFT, "end_date": day.isoformat()}
    )
    text = response.content.decode()
    assert response.status_code == 400 and "確認轉出" not in text
    expected = services.MSG_END_IN_FUTURE if offset else services.MSG_END_BEFORE_START
    assert str(expected) in text
    leaving.refresh_from_db()
    assert leaving.end_date is None


def end(client, membership, day=None):
    data = {
        "reason": EndReason.LEFT,
        "end_date": (day or timezone.localdate()).isoformat(),
        "confirmed": "True",
    }
    return client.post(end_url(membership), data)


def test_a_unit_undoes_its_own_recent_ending_recorded_as_correction(chief, school):
    leaving = member(school, name="吳離職", start=dt.date(2020, 8, 1))
    client = signed_in_client(chief)
    assert end(client, leaving).status_code == 302
    roster = client.get(reverse("teachers:roster")).content.decode()
    undo = reverse("teachers:undo-end", args=[leaving.pk])
    assert undo in roster
    page = client.get(undo)
    assert page.status_code == 200 and "確認撤銷轉出" in page.content.decode()
    leaving.refresh_from_db()
    assert leaving.end_date is not None  # GET asks, changes nothing
    assert client.post(undo).status_code == 302
    leaving.refresh_from_db()
    assert (leaving.end_date, leaving.end_reason, leaving.ended_by) == (None, None, None)
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Membership), object_pk=str(leaving.pk)
    ).latest("pk")
    assert entry.additional_data == {"異動": EndReason.CORRECTED} and entry.actor == chief


def test_no_undo_once_another_unit_registered_the_person(chief, actors, school, other_school):
    other_chief = actors("chief").outsider
    leaving = member(school, name="吳離職", start=dt.date(2020, 8, 1))
    end(signed_in_client(chief), leaving, timezone.localdate() - dt.timedelta(days=2))
    services.teacher_register(
        actor=other_chief,
        unit=other_school,
        national_id=leaving.person.reveal_national_id(),
        name="吳離職",
        start_date=timezone.localdate(),
    )
    undo = reverse("teachers:undo-end", args=[leaving.pk])
    client = signed_in_client(chief)
    assert client.get(undo).status_code == 404
    assert client.post(undo).status_code == 404
    assert leaving.person.memberships.get(end_date__isnull=True).unit == other_school
    with pytest.raises(services.RosterError):
        services.membership_end_undo(actor=chief, membership=leaving)


def test_no_undo_by_another_unit_or_after_the_window(chief, actors, school):
    other_chief = actors("chief").outsider
    leaving = member(school, name="吳離職", start=dt.date(2020, 8, 1))
    end(signed_in_client(chief), leaving)
    undo = reverse("teachers:undo-end", args=[leaving.pk])
    assert signed_in_client(other_chief).post(undo).status_code == 404
    Membership.objects.filter(pk=leaving.pk).update(
        ended_at=timezone.now() - dt.timedelta(days=services.UNDO_END_DAYS + 1)
    )
    assert signed_in_client(chief).post(undo).status_code == 404
    leaving.refresh_from_db()
    assert leaving.end_date is not None


def test_an_ending_by_a_feed_or_a_move_cannot_be_undone_by_the_unit(chief, school):
    ended = member(school, name="吳系統", start=dt.date(2020, 8, 1))
    services.membership_end(actor=None, membership=ended, reason=EndReason.LEFT, on=timezone.localdate())
    assert signed_in_client(chief).post(reverse("teachers:undo-end", args=[ended.pk])).status_code == 404
