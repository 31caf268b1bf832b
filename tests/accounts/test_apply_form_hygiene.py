"""The apply form refuses what the columns cannot hold, with the words the importers use."""

import pytest

from accounts import national_id
from accounts.forms import BusinessAccountApplyForm
from accounts.models import BusinessAccountType
from core.dataexchange import ImportRefused, import_file
from tests.dataexchange.conftest import HEADERS, write_csv

pytestmark = pytest.mark.django_db


def _data(**changes):
    data = {
        "unit_code": "136601",
        "account_type": BusinessAccountType.CLERK,
        "national_id": "A123456789",
        "name": "王小明",
        "email": "ming@example.org",
        "phone": "02-1234-5678",
        "username": "ming.wang",
        "password1": "correct-horse-battery-staple",
        "password2": "correct-horse-battery-staple",
    }
    data.update(changes)
    return data


def test_an_email_longer_than_its_column_is_a_field_error_not_a_server_error():
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"  # 312 characters: valid to a form
    assert len(email) == 312
    form = BusinessAccountApplyForm(data=_data(email=email))
    assert not form.is_valid()
    assert "email" in form.errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "王\u202e明", "姓名 含有改變文字方向的隱藏字元，請刪除"),
        ("name", "\u200b\u200b", "姓名 只有看不見的字元（如零寬空白），請填寫內容"),
        ("phone", "02\x001234", "聯絡電話 含有控制字元（如換行、NUL），請刪除"),
    ],
)
def test_text_fields_use_the_shared_text_check(field, value, message):
    form = BusinessAccountApplyForm(data=_data(**{field: value}))
    assert not form.is_valid()
    assert message in form.errors[field]


@pytest.mark.parametrize("username", ["王小明", "ming@wang", "ming+1", "ｍｉｎｇ"])
def test_usernames_are_ascii_letters_digits_and_dot_underscore_hyphen(username):
    form = BusinessAccountApplyForm(data=_data(username=username))
    assert not form.is_valid()
    assert form.errors["username"] == ["使用者帳號只能使用英文字母、數字及 . _ -"]


@pytest.mark.parametrize(
    ("password", "changes"),
    [("ming.wang.2024", {}), ("mingwang@example", {"email": "mingwang@example.org"})],
)
def test_a_password_like_the_username_or_email_is_refused(password, changes):
    form = BusinessAccountApplyForm(data=_data(password1=password, password2=password, **changes))
    assert not form.is_valid()
    assert "password1" in form.errors


def test_a_good_application_has_no_field_errors_besides_the_unknown_unit():
    form = BusinessAccountApplyForm(data=_data())
    assert not form.is_valid()
    assert set(form.errors) == {"unit_code"}  # no unit 136601 in this test


@pytest.mark.parametrize(
    ("value", "message"),
    [("A12345", national_id.MSG_FORMAT), ("A123456788", national_id.MSG_CHECKSUM)],
)
def test_the_form_and_the_importers_word_a_bad_national_id_alike(tmp_path, value, message):
    form = BusinessAccountApplyForm(data=_data(national_id=value))
    assert not form.is_valid()
    assert form.errors["national_id"] == [str(message)]
    path = write_csv(
        tmp_path / "hours.csv", HEADERS["hours"], [[value, "C1", "研習", "136601", "2024-09-01", "3"]]
    )
    with pytest.raises(ImportRefused) as refusal:
        import_file("hours", path)
    assert refusal.value.messages[0] == f"第 2 列：{message}"
