import pytest
from django.core.exceptions import ValidationError

from accounts import national_id
from accounts.models import Person
from tests.factories import PersonFactory

# Worked by hand from SPEC §3.3, so the implementation is not checked against itself:
# A123456789: A=10 → 1×1 + 0×9 = 1; 1..8 × 8..1 = 120; + 9 = 130, a multiple of 10.
VALID_ID = "A123456789"
# 2021 統一證號, second digit 8: 1 + 8×8 + 0…0 + 1×1 = 66; check digit 4 → 70.
VALID_NEW_RESIDENT = "A800000014"
# Old 居留證: A=10 → 1; D=13 counts its units digit 3 × 8 = 24; 1..7 × 7..1 = 84; 109 + 1 → 110.
VALID_OLD_RESIDENT = "AD12345671"


@pytest.mark.parametrize(
    "value", [VALID_ID, VALID_NEW_RESIDENT, VALID_OLD_RESIDENT, "a123456789", " A123456789 "]
)
def test_valid_ids_pass(value):
    assert national_id.is_valid(value)
    national_id.validate_national_id(value)


@pytest.mark.parametrize("value", ["A123456788", "A800000015", "AD12345672", "B123456789"])
def test_bad_checksum_is_refused_with_checksum_message(value):
    with pytest.raises(ValidationError) as err:
        national_id.validate_national_id(value)
    assert err.value.code == "checksum"
    assert value not in str(err.value.messages)


@pytest.mark.parametrize(
    "value", ["", "A12345678", "A1234567890", "A323456789", "1123456789", "A12345678X", "A1D2345678"]
)
def test_wrong_format_is_refused_with_format_message(value):
    with pytest.raises(ValidationError) as err:
        national_id.validate_national_id(value)
    assert err.value.code == "format"
    assert str(err.value.messages[0]) == "身分證字號或居留證號格式不正確。"


def test_with_check_digit_completes_a_prefix():
    assert national_id.with_check_digit("A12345678") == VALID_ID


def test_digest_is_keyed_and_stable(settings):
    first = national_id.digest(VALID_ID)
    assert first == national_id.digest("a123456789")
    assert VALID_ID not in first
    settings.NATIONAL_ID_HMAC_KEY = "another-key"
    assert national_id.digest(VALID_ID) != first


def test_encrypted_copy_round_trips_and_hides_the_number():
    token = national_id.encrypt(VALID_ID)
    assert VALID_ID not in token
    assert national_id.decrypt(token) == VALID_ID


@pytest.mark.django_db
def test_person_stores_digest_and_protected_copy_not_the_number():
    person = PersonFactory(national_id_value=VALID_ID, name="謝佩威")
    row = Person.objects.values().get(pk=person.pk)
    assert VALID_ID not in str(row)
    assert person.reveal_national_id() == VALID_ID
    assert Person.objects.by_national_id("a123456789").get() == person
    assert str(person) == "謝O威"


@pytest.mark.django_db
def test_national_id_is_unique_site_wide():
    from django.db import IntegrityError

    PersonFactory(national_id_value=VALID_ID)
    with pytest.raises(IntegrityError):
        PersonFactory(national_id_value=VALID_ID)


def test_person_refuses_an_invalid_id():
    with pytest.raises(ValidationError):
        Person(name="王小明").set_national_id("A123456788")


def test_redact_removes_every_id_shape():
    text = f"look-up {VALID_ID} and {VALID_OLD_RESIDENT.lower()} and {VALID_NEW_RESIDENT}"
    redacted = national_id.redact(text)
    for value in (VALID_ID, VALID_OLD_RESIDENT.lower(), VALID_NEW_RESIDENT):
        assert value not in redacted
    assert redacted.count("[已遮蔽]") == 3


def test_encrypt_and_decrypt_round_trip_with_the_settings_keys():
    from accounts import national_id

    token = national_id.encrypt("a123456789")
    assert national_id.decrypt(token) == "A123456789"
    assert national_id.encrypter()("A123456789") != token
    assert national_id.digester()("A123456789") == national_id.digest("a123456789")
