"""申請教師帳號 shares the new-account password rules of accounts.forms.NewPasswordMixin (issue 17
point 3): the similarity check the teacher copy had lost refuses a password equal to the username."""

import pytest

from accounts.forms import BusinessAccountApplyForm, NewPasswordMixin
from teachers.forms import TeacherApplyForm

pytestmark = pytest.mark.django_db


def _data(**changes):
    data = {
        "national_id": "A123456789",
        "name": "王小明",
        "username": "mingwang2024",
        "email": "ming@example.org",
        "password1": "correct-horse-battery-staple",
        "password2": "correct-horse-battery-staple",
    }
    data.update(changes)
    return data


def test_a_password_equal_to_the_username_is_refused_with_the_similarity_wording():
    form = TeacherApplyForm(data=_data(password1="mingwang2024", password2="mingwang2024"))
    assert not form.is_valid()
    assert form.errors["password1"] == ["這個密碼與使用者名稱太相近。"]


def test_a_good_password_passes_and_two_different_entries_do_not():
    assert TeacherApplyForm(data=_data()).is_valid()
    form = TeacherApplyForm(data=_data(password2="something-else-entirely"))
    assert form.errors["password2"] == ["兩次輸入的密碼不一致。"]


def test_both_new_account_forms_use_the_one_mixin():
    assert issubclass(TeacherApplyForm, NewPasswordMixin)
    assert issubclass(BusinessAccountApplyForm, NewPasswordMixin)
