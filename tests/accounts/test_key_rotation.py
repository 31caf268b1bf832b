"""National-ID key rotation in stages (issue 21 point 4): the new keys as readers, then writers,
a resumable re-keying of every stored copy (interrupted and resumed here), the old keys dropped.
Every national ID stays readable and every look-up works at every stage."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from accounts import key_rotation, national_id
from accounts.models import BusinessAccount, BusinessAccountStatus, BusinessAccountType, KeyRotation, Person
from accounts.services import _roster_person
from core import dataexchange
from teachers.people import MSG_ID_TAKEN, person_national_id_correct
from teachers.services import RosterError
from tests.factories import BusinessAccountFactory, PersonFactory, valid_national_id

pytestmark = pytest.mark.django_db

F_OLD, F_NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
H_OLD, H_NEW = "old-lookup-key", "new-lookup-key"


def stage(settings, fernet, hmac):
    settings.NATIONAL_ID_FERNET_KEYS, settings.NATIONAL_ID_HMAC_KEYS = fernet, hmac


@pytest.fixture
def people(settings):
    stage(settings, [F_OLD], [H_OLD])
    numbers = [valid_national_id(7100 + n) for n in range(7)]
    made = [PersonFactory(national_id_value=number) for number in numbers]
    return dict(zip(numbers, made, strict=True))


def readable_and_found(people):
    for number, person in people.items():
        person.refresh_from_db()
        assert person.reveal_national_id() == number
        assert list(Person.objects.by_national_id(number)) == [person]


def test_a_rotation_interrupted_and_resumed_leaves_every_id_readable_and_found(settings, people, monkeypatch):
    applicant_number = next(iter(people))
    account = BusinessAccountFactory(type=BusinessAccountType.CHIEF)
    BusinessAccount.objects.filter(pk=account.pk).update(
        applicant_national_id_digest=national_id.digest(applicant_number),
        applicant_national_id_encrypted=national_id.encrypt(applicant_number),
        person=None,
        status=BusinessAccountStatus.PENDING,
    )
    account.refresh_from_db()

    stage(settings, [F_OLD, F_NEW], [H_OLD, H_NEW])  # 1: the new keys as readers
    readable_and_found(people)

    stage(settings, [F_NEW, F_OLD], [H_NEW, H_OLD])  # 2: the new keys as writers
    newcomer = valid_national_id(7200)
    people[newcomer] = PersonFactory(national_id_value=newcomer)
    assert people[newcomer].national_id_digest == national_id.digest(newcomer)
    readable_and_found(people)
    assert _roster_person(account) == people[applicant_number]  # its stored digest is the old key's

    # 3: re-keying, in batches of 2; the first run is stopped after two committed batches.
    key_rotation.rotate(batch_size=2, max_batches=2)
    (person_progress, _applicants) = key_rotation.progress()
    assert person_progress.done == 4 and not person_progress.finished and 0 < person_progress.percent < 100
    readable_and_found(people)

    # The second run dies inside a batch: that batch is rolled back with its progress.
    calls = {"n": 0}
    real_encrypt = national_id.encrypt

    def dying_encrypt(value):
        calls["n"] += 1
        if calls["n"] == 2:
            raise MemoryError("worker killed")
        return real_encrypt(value)

    monkeypatch.setattr(national_id, "encrypt", dying_encrypt)
    with pytest.raises(MemoryError):
        key_rotation.rotate(batch_size=2)
    assert KeyRotation.objects.get(store="person").done == 4
    readable_and_found(people)
    monkeypatch.setattr(national_id, "encrypt", real_encrypt)

    call_command("rotate_national_id_keys", "--batch-size", "2")  # resumed
    assert key_rotation.complete()
    progress = {p.store: p for p in key_rotation.progress()}
    assert progress["person"].done == Person.objects.count() and progress["person"].finished
    assert progress["business_account_applicant"].changed == 1

    stage(settings, [F_NEW], [H_NEW])  # 4: the old keys dropped
    readable_and_found(people)
    account.refresh_from_db()
    assert _roster_person(account) == people[applicant_number]
    for person in Person.objects.all():
        Fernet(F_NEW.encode()).decrypt(person.national_id_encrypted.encode())  # the new key alone


def test_while_re_keying_the_uniqueness_check_sees_every_digest_version(settings, people, operator):
    number, other = next(iter(people)), list(people.values())[1]
    stage(settings, [F_NEW, F_OLD], [H_NEW, H_OLD])
    # Under the new writer the stored digest is not the writer's, yet the number is known.
    assert people[number].national_id_digest != national_id.digest(number)
    assert Person.objects.by_national_id(number).exists()
    with pytest.raises(RosterError) as refused:  # 更正身分證字號 to a number another person holds
        person_national_id_correct(actor=operator, person=other, new_national_id=number)
    assert refused.value.message == MSG_ID_TAKEN
    other.refresh_from_db()
    assert other.reveal_national_id() != number


def test_bulk_imports_pause_while_re_keying(settings, tmp_path, people):
    stage(settings, [F_NEW, F_OLD], [H_NEW, H_OLD])
    file = tmp_path / "roster.csv"
    file.write_text("national_id,name,email,unit_code,category,title,subjects,start_date,end_date\n")
    with pytest.raises(dataexchange.ImportRefused) as refused:
        dataexchange.import_file("roster", file)
    assert any("輪替進行中" in line for line in refused.value.messages)
