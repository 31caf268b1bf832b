"""人員資料更正 (operator): correct a mistyped national ID, merge two person records (teachers.people).

National IDs travel only in POST bodies, never in URLs, and are never echoed back in a page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.permissions import Perm, requires
from core.refusals import raise_denial
from teachers import people, selectors
from teachers.services import RosterError

MSG_NOT_FOUND = gettext_lazy("查無此身分證字號的人員資料。")
MSG_NAME = gettext_lazy("姓名與此身分證字號登錄的資料不符。")


def _person(form, field: str, name_field: str | None = None):
    person = selectors.person_by_national_id(form.cleaned_data[field])
    if person is None:
        form.add_error(field, MSG_NOT_FOUND)
    elif name_field and person.name != form.cleaned_data[name_field]:
        form.add_error(name_field, MSG_NAME)
        return None
    return person


class NoEcho(forms.TextInput):
    """A national-ID field that is never written back into a page (a refused form is typed again)."""

    def format_value(self, value):
        return None


class CorrectIdForm(forms.Form):
    current_id = forms.CharField(label=gettext_lazy("目前登錄的身分證字號"), max_length=20, widget=NoEcho)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)
    new_id = forms.CharField(label=gettext_lazy("正確的身分證字號"), max_length=20, widget=NoEcho)
    confirmed = forms.BooleanField(label=gettext_lazy("我已核對證件，確認更正此人的身分證字號"))


class MergeForm(forms.Form):
    keep_id = forms.CharField(label=gettext_lazy("保留的人員資料：身分證字號"), max_length=20, widget=NoEcho)
    duplicate_id = forms.CharField(
        label=gettext_lazy("併入後刪除的人員資料：身分證字號"), max_length=20, widget=NoEcho
    )
    confirmed = forms.BooleanField(
        label=gettext_lazy(
            "我已確認兩筆是同一人；服務紀錄、研習時數、進修規劃與帳號將移到保留的資料，另一筆刪除"
        )
    )


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def correct_id(request):
    form = CorrectIdForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        person = _person(form, "current_id", "name")
        if person is not None:
            try:
                people.person_national_id_correct(
                    actor=request.user, person=person, new_national_id=form.cleaned_data["new_id"]
                )
            except RosterError as exc:
                raise_denial(exc)
                form.add_error("new_id", exc.message)
                status = exc.status  # the refusal's code decides: 409 a clash, 400 an ID the rules refuse
            else:
                messages.success(request, _("已更正 %(name)s 的身分證字號。") % {"name": person.masked_name})
                return redirect("teachers:correct-id")
    return render(request, "teachers/correct_id.html", {"form": form}, status=status)


@requires(Perm.OPERATOR_ADMIN)
@require_http_methods(["GET", "POST"])
def merge(request):
    form = MergeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        keep, duplicate = _person(form, "keep_id"), _person(form, "duplicate_id")
        if keep is not None and duplicate is not None:
            try:
                moved = people.people_merge(actor=request.user, keep=keep, duplicate=duplicate)
            except RosterError as exc:
                raise_denial(exc)
                form.add_error(None, exc.message)
                status = exc.status  # 409: a clash the merge cannot move (named in the message)
            else:
                summary = "、".join(f"{label} {n}" for label, n in moved.items())
                messages.success(
                    request,
                    _("已合併至 %(name)s：%(summary)s。") % {"name": keep.masked_name, "summary": summary},
                )
                return redirect("teachers:merge")
    return render(request, "teachers/merge.html", {"form": form}, status=status)
