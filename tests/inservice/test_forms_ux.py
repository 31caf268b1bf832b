"""Forms a first-time user fills in (issue 9, point 17)."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.forms import MSG_ID_NOT_REPEATED, BusinessAccountApplyForm
from accounts.models import BusinessAccountStatus
from tests.factories import valid_national_id
from tests.helpers import signed_in_client


def _apply_data(school, **changes):
    data = {
        "unit_code": school.code,
        "account_type": "contact",
        "national_id": valid_national_id(424242),
        "name": "何志遠",
        "email": "he@example.org",
        "phone": "08-7654321",
        "username": "contact9",
        "password1": "a-long-enough-secret",
        "password2": "a-long-enough-secret",
    }
    data.update(changes)
    return data


def _field_html(form, name) -> str:
    return render_to_string("components/field.html", {"field": form[name]})


@pytest.mark.django_db
@pytest.mark.parametrize("pasted", ["{a} {b} {c}", " {a}{b}{c} ", "{a}-{b}-{c}", "{a}\u3000{b}{c}"])
def test_pasted_national_id_with_spaces_is_accepted(school, pasted):
    number = valid_national_id(424242)
    typed = pasted.format(a=number[:4], b=number[4:7], c=number[7:])
    form = BusinessAccountApplyForm(_apply_data(school, national_id=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["national_id"] == number


def test_national_id_box_takes_a_pasted_value_with_spaces():
    html = str(BusinessAccountApplyForm()["national_id"])
    assert "maxlength" not in html  # a browser would cut "A123 456 789" to ten characters


@pytest.mark.django_db
def test_national_id_box_says_why_it_is_empty_after_a_refusal(school):
    form = BusinessAccountApplyForm(_apply_data(school, name=""))
    assert not form.is_valid()
    html = _field_html(form, "national_id")
    assert str(MSG_ID_NOT_REPEATED) in html
    assert valid_national_id(424242) not in html
    assert 'aria-describedby="id_national_id_helptext"' in html


def test_national_id_box_is_quiet_before_the_first_try():
    assert str(MSG_ID_NOT_REPEATED) not in _field_html(BusinessAccountApplyForm(), "national_id")


def test_password_rules_are_shown_before_submitting():
    html = _field_html(BusinessAccountApplyForm(), "password1")
    assert "10 個字元" in html
    assert 'aria-describedby="id_password1_helptext"' in html


@pytest.mark.django_db
def test_radio_group_error_is_announced_on_its_fieldset(school):
    form = BusinessAccountApplyForm(_apply_data(school, account_type=""))
    assert not form.is_valid()
    html = _field_html(form, "account_type")
    fieldset = re.search(r"<fieldset[^>]*>", html).group(0)
    assert "id_account_type_error" in fieldset.split('aria-describedby="')[1].split('"')[0]
    legend = re.search(r"<legend>(.*?)</legend>", html, re.S).group(1)
    assert 'id="id_account_type_error"' in legend
    assert form.errors["account_type"][0] in legend


@pytest.mark.django_db
def test_error_summary_links_a_radio_group_to_its_first_option(school):
    form = BusinessAccountApplyForm(_apply_data(school, account_type=""))
    form.is_valid()
    html = render_to_string("components/error_summary.html", {"form": form})
    assert 'href="#id_account_type_0"' in html
    assert 'id="id_account_type_0"' in str(form["account_type"])


@pytest.mark.django_db
def test_refused_deletion_does_not_offer_the_deletion_again(centre, chief):
    account = chief.business_account
    response = signed_in_client(centre).post(reverse("accounts:delete", args=[account.pk]))
    assert response.status_code == 409
    html = response.content.decode()
    assert "每所學校至少須保留一位總負責人" in html
    assert "確認刪除" not in html
    assert "返回帳號清單" in html
    account.refresh_from_db()
    assert account.status == BusinessAccountStatus.ACTIVE


@pytest.mark.django_db
def test_refused_enable_does_not_offer_the_enable_again(chief, contact):
    account = contact.business_account  # already active: enabling again is refused
    response = signed_in_client(chief).post(reverse("accounts:enable", args=[account.pk]))
    assert response.status_code == 409
    assert "確認啟用" not in response.content.decode()
