"""Every date field accepts ROC input as well as ISO dates, and shows ROC (issue 9, point 17)."""

import datetime as dt

import pytest
from django import forms

from core import roc
from core.forms import MSG_INVALID_DATE, RocDateField

AUG_5 = dt.date(2024, 8, 5)


@pytest.mark.parametrize(
    "typed",
    [
        "113/8/5",
        "113/08/05",
        "113-8-5",
        "113.8.5",
        "113年8月5日",
        "民國113年8月5日",
        "113 年 8 月 5 日",
        "１１３／８／５",
        " 113/8/5 ",
        "2024-08-05",
        "2024/8/5",
    ],
)
def test_roc_and_iso_dates_are_read(typed):
    assert roc.parse_date(typed) == AUG_5


def test_years_before_100_are_roc_years():
    assert roc.parse_date("99/1/1") == dt.date(2010, 1, 1)


@pytest.mark.parametrize("typed", ["113/2/30", "113/13/1", "0/1/1", "8/5", "113年8月", "abc", "", "2024-8"])
def test_impossible_or_partial_dates_are_refused(typed):
    with pytest.raises(ValueError):
        roc.parse_date(typed)


class _Form(forms.Form):
    day = RocDateField(label="日期")


@pytest.mark.parametrize("typed", ["113/8/5", "113年8月5日", "2024-08-05"])
def test_roc_date_field_accepts_roc_and_iso(typed):
    form = _Form({"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == AUG_5


def test_roc_date_field_refuses_with_an_example():
    form = _Form({"day": "113/2/30"})
    assert not form.is_valid()
    assert form.errors["day"] == [str(MSG_INVALID_DATE)]


def test_roc_date_field_shows_its_value_in_roc():
    html = str(_Form(initial={"day": AUG_5})["day"])
    assert 'value="113年8月5日"' in html


def test_roc_date_field_keeps_what_was_typed_when_refused():
    html = str(_Form({"day": "113/2/30"})["day"])
    assert 'value="113/2/30"' in html


def test_roc_date_field_explains_the_format():
    assert "113/8/5" in str(_Form()["day"].help_text)


@pytest.mark.django_db
def test_membership_admin_dates_accept_roc_input(rf):
    from django.contrib import admin

    from teachers.admin import MembershipAdmin
    from teachers.models import Membership

    model_admin = MembershipAdmin(Membership, admin.site)
    form_class = model_admin.get_form(rf.get("/"), fields=["start_date", "end_date"])
    assert isinstance(form_class.base_fields["start_date"], RocDateField)
    form = form_class({"start_date": "113/8/5", "end_date": "114年7月31日"})
    form.is_valid()
    assert "start_date" not in form.errors and "end_date" not in form.errors
    assert form.cleaned_data["start_date"] == AUG_5
    assert form.cleaned_data["end_date"] == dt.date(2025, 7, 31)
