"""Plan forms: one checkbox group (fieldset + legend) per question, numbers in typed fields."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from core.forms import RocDateField, RocDateTimeField
from core.roc import format_roc_date
from planning.choices import NEED_QUESTIONS, OPTIONS, Domain, Question
from planning.models import TAIPEI, WINDOW_CLOSING_TIME, PlanKind
from planning.services import PlanningError, announcement_attachment_check

MSG_CHOOSE_ONE = _("確認送出前，請至少勾選一項。")
MSG_STUDENTS_REQUIRED = _("確認送出前，請填寫學生總數。")


def _choice_field(question: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=Question(question).label,
        choices=OPTIONS[question],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("可複選"),
    )


class NeedsForm(forms.Form):
    """教師研習需求 and 主要研習範疇; on 確認送出 every group needs at least one choice."""

    def __init__(self, *args, submitting: bool = False, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for question in (*NEED_QUESTIONS, Question.DOMAIN):
            self.fields[question] = _choice_field(question)
        self.submitting = submitting
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @property
    def need_fields(self):
        return [self[question] for question in NEED_QUESTIONS]

    @property
    def domain_field(self):
        return self[Question.DOMAIN]

    def chosen(self) -> list[tuple[str, str]]:
        """(question label, chosen labels joined) for read-only summaries."""
        out = []
        for question in (*NEED_QUESTIONS, Question.DOMAIN):
            values = self[question].value() or []
            labels = [str(label) for code, label in OPTIONS[question] if code in values]
            out.append((str(Question(question).label), "、".join(labels) or "—"))
        return out

    def answers(self) -> dict[str, list[str]]:
        return {q: self.cleaned_data.get(q) or [] for q in (*NEED_QUESTIONS, Question.DOMAIN)}

    def clean(self):
        data = super().clean()
        if self.submitting:
            for question in (*NEED_QUESTIONS, Question.DOMAIN):
                if not data.get(question) and question not in self.errors:
                    self.add_error(question, MSG_CHOOSE_ONE)
        return data

    @staticmethod
    def initial_from(plan) -> dict:
        initial: dict = {}
        if plan is None:
            return initial
        for answer in plan.answers.all():
            initial.setdefault(answer.question, []).append(answer.option)
        return initial


class SchoolPlanForm(NeedsForm):
    student_count = forms.IntegerField(
        label=_("學生總數"), min_value=0, max_value=100_000, required=False, help_text=_("全校學生人數")
    )

    field_order = ["student_count"]

    def clean(self):
        data = super().clean()
        if self.submitting and data.get("student_count") is None and "student_count" not in self.errors:
            self.add_error("student_count", MSG_STUDENTS_REQUIRED)
        return data


def hours_field_name(domain: str) -> str:
    return f"hours_{domain}"


class TeacherPlanForm(NeedsForm):
    """The teacher's needs, domains and planned hours per domain (0 to 999, half hours)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        read_only = kwargs.get("read_only", False)
        for domain, label in Domain.choices:
            self.fields[hours_field_name(domain)] = forms.DecimalField(
                label=_("%(domain)s 規劃時數") % {"domain": label},
                min_value=Decimal(0),
                max_value=Decimal(999),
                decimal_places=1,
                max_digits=4,
                required=False,
                disabled=read_only,
            )

    @property
    def hours_fields(self):
        return [self[hours_field_name(domain)] for domain in Domain.values]

    def hours(self) -> dict:
        return {domain: self.cleaned_data.get(hours_field_name(domain)) for domain in Domain.values}

    @staticmethod
    def initial_from(plan) -> dict:
        initial = NeedsForm.initial_from(plan)
        if plan is not None:
            for row in plan.planned_hours.all():
                initial[hours_field_name(row.domain)] = row.hours
        return initial


class SurveyForm(forms.Form):
    SCORES = [(5, _("非常同意")), (4, _("同意")), (3, _("普通")), (2, _("不同意")), (1, _("非常不同意"))]

    ease = forms.TypedChoiceField(
        label=_("填報操作容易"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    usefulness = forms.TypedChoiceField(
        label=_("規劃內容對專業成長有幫助"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("其他意見（選填）"), max_length=1000, required=False, widget=forms.Textarea
    )


class AnnouncementForm(forms.Form):
    title = forms.CharField(label=_("標題"), max_length=200)
    published_on = RocDateField(
        label=_("發布日期"), help_text=_("民國年/月/日，例如 115/7/15；日期在未來時先排程，當天才公開。")
    )
    body = forms.CharField(label=_("內容"), widget=forms.Textarea, required=False)
    attachment = forms.FileField(label=_("附件（選填，PDF）"), required=False)

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        try:  # the service's own rules (planning.services), shown on the field
            announcement_attachment_check(upload)
        except PlanningError as refused:
            raise forms.ValidationError(refused.message, code=refused.code) from None
        return upload


class ReopenForm(forms.Form):
    """退回修改: a reason always; for the operator, an extension (ROC date and a time) after the window."""

    reason = forms.CharField(
        label=_("退回原因"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("會記錄並以電子郵件通知填報者。"),
        error_messages={"required": _("請填寫退回原因（會記錄並以電子郵件通知填報者）。")},
    )

    def __init__(self, *args, operator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if operator:
            self.fields["extension_day"] = RocDateField(
                label=_("延長截止日期"),
                required=False,
                help_text=_("填報期程已截止時必填，例如 115/9/30；期程內退回請留空。"),
            )
            self.fields["extension_time"] = forms.TimeField(
                label=_("延長截止時間"),
                required=False,
                initial=WINDOW_CLOSING_TIME.strftime("%H:%M"),
                help_text=_("24 小時制，例如 17:00（臺北時間）。"),
                error_messages={"invalid": _("時間格式不正確，請輸入如 17:00。")},
            )

    def clean(self):
        data = super().clean()
        if data.get("extension_time") and not data.get("extension_day") and "extension_day" in self.fields:
            self.add_error("extension_day", _("填寫延長截止時間時，請一併填寫日期。"))
        return data

    def extended_until(self):
        day = self.cleaned_data.get("extension_day")
        if day is None:
            return None
        time = self.cleaned_data.get("extension_time") or WINDOW_CLOSING_TIME
        return dt.datetime.combine(day, time, tzinfo=TAIPEI)


class CycleForm(forms.Form):
    """進修規劃年度: the roster cut-off (ROC date and time); the stages in scope are SPEC §6's, fixed."""

    roster_cutoff = RocDateTimeField(
        label=_("教師名單截止時間"),
        help_text=_("各校教師規劃名單以此時間前登錄完畢者為準；民國年月日及時間，例如 115/7/31 17:00。"),
        error_messages={"required": _("請填寫教師名單截止時間，例如 115/7/31 17:00。")},
    )


class WindowForm(forms.Form):
    """填報期程: an authority's window for one kind of plan; kind and authority only when adding."""

    kind = forms.ChoiceField(label=_("規劃類別"), choices=PlanKind.choices)
    authority = forms.ModelChoiceField(
        label=_("主管機關"),
        queryset=Unit.objects.authorities().order_by("code"),
        empty_label=_("（請選擇）"),
        error_messages={"required": _("請選擇主管機關。"), "invalid_choice": _("請選擇清單中的主管機關。")},
    )
    phase = forms.IntegerField(
        label=_("填寫階段（選填）"),
        min_value=1,
        max_value=9,
        required=False,
        help_text=_("分梯次填寫時的梯次，例如 1 或 2；不分梯次請留空。"),
        error_messages={
            "invalid": _("填寫階段請填 1 到 9 的整數，或留空。"),
            "min_value": _("填寫階段請填 1 到 9 的整數，或留空。"),
            "max_value": _("填寫階段請填 1 到 9 的整數，或留空。"),
        },
    )
    first_day = RocDateField(
        label=_("開始日期"),
        help_text=_("當日 00:00 起，例如 115/9/1。"),
        error_messages={"required": _("請填寫開始日期，例如 115/9/1。")},
    )
    last_day = RocDateField(
        label=_("截止日期"),
        help_text=_("當日 17:00:00 止，例如 115/10/15。"),
        error_messages={"required": _("請填寫截止日期，例如 115/10/15。")},
    )

    def __init__(self, *args, adding: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not adding:
            del self.fields["kind"]
            del self.fields["authority"]

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error(
                "last_day",
                _("截止日期（%(last)s）不可早於開始日期（%(first)s）。")
                % {"first": format_roc_date(first), "last": format_roc_date(last)},
            )
        return data
