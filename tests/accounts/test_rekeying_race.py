"""Issue 21: while the look-up key is re-keyed, two processes on different writer keys register the
same new national ID at the same moment (教師資料登錄 at two schools): one person, never two.

Each thread has its own connection and its own writer key (a thread-local key list stands in for a
process's settings: stage 2 of the rotation is taken one process at a time, docs/operations.md).
The slow step between each registration's look-up and its insert makes the race certain: without
the advisory lock both look-ups find nobody and two records with two digests are committed."""

import datetime as dt
import threading
import time

import pytest
from django.db import transaction

from accounts import national_id
from accounts.models import NationalIdTaken, Person
from teachers import services
from tests.accounts.test_last_chief_race import at_the_same_moment
from tests.conftest import require_postgresql
from tests.factories import valid_national_id

H_OLD, H_NEW = "old-lookup-key", "new-lookup-key"


@pytest.fixture
def two_writers(settings, monkeypatch):
    """hmac_keys() per thread: the first thread to ask writes with the new key, the next with the old."""
    settings.NATIONAL_ID_HMAC_KEYS = [H_OLD, H_NEW]
    local, lock, handed = threading.local(), threading.Lock(), []

    def hmac_keys():
        if not hasattr(local, "keys"):
            with lock:
                local.keys = [H_NEW, H_OLD] if not handed else [H_OLD, H_NEW]
                handed.append(local.keys)
        return list(local.keys)

    monkeypatch.setattr(national_id, "hmac_keys", hmac_keys)
    return handed


@pytest.fixture
def slow_insert(monkeypatch):
    """Widen the window between a registration's look-up and its insert."""
    set_national_id = Person.set_national_id

    def slow(self, value):
        time.sleep(0.5)
        set_national_id(self, value)

    monkeypatch.setattr(Person, "set_national_id", slow)


@pytest.mark.django_db(transaction=True)
def test_two_writer_keys_registering_one_new_number_give_one_person(
    chief, other_chief, school, other_school, two_writers, slow_insert
):
    require_postgresql("the re-keying registration race")
    number = valid_national_id(7321)
    start = dt.date.today() - dt.timedelta(days=1)

    def register(actor, unit):
        return lambda: services.teacher_register(
            actor=actor, unit=unit, national_id=number, name="林志明", start_date=start, confirmed=True
        )

    results = at_the_same_moment(register(chief, school), register(other_chief, other_school))

    assert sorted(map(tuple, two_writers)) == sorted([(H_NEW, H_OLD), (H_OLD, H_NEW)])  # two writers
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) <= 1, errors  # the second may be refused (a move on the same day) but not fail
    assert all(isinstance(e, services.RosterError) for e in errors), errors
    assert Person.objects.filter(name="林志明").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_writer_that_forgot_to_lock_still_cannot_give_a_known_number_a_second_record(settings):
    require_postgresql("the advisory lock")
    number = valid_national_id(7322)
    settings.NATIONAL_ID_HMAC_KEYS = [H_OLD]
    first = Person(name="王小明")
    first.set_national_id(number)
    first.save()
    settings.NATIONAL_ID_HMAC_KEYS = [H_NEW, H_OLD]  # another process, already on the new writer
    second = Person(name="王小明")
    with pytest.raises(NationalIdTaken), transaction.atomic():
        second.set_national_id(number)
    with pytest.raises(RuntimeError, match="needs a transaction"):  # a lock outside one would be no lock
        second.set_national_id(number)
    assert Person.objects.count() == 1
