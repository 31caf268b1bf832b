"""Input parsing of the course screens; no database writes."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Stage, Unit
from core.forms import RocDateField, RocDateTimeField
from core.roc import format_roc_datetime
from courses.models import Course, Tag


class CourseForm(forms.ModelForm):
    """研習課程登錄. Dates and times are typed in the ROC calendar (ISO also read), times in Asia/Taipei."""

    start_date = RocDateField(label=_("上課開始日期"))
    end_date = RocDateField(label=_("上課結束日期"))
    enrol_opens_at = RocDateTimeField(label=_("報名開始時間"))
    enrol_closes_at = RocDateTimeField(
        label=_("報名截止時間"),
        help_text=_("須在課程結束前截止。民國年月日及 24 小時制時間（臺北時間），例如 115/7/31 17:00。"),
    )

    audience_stages = forms.MultipleChoiceField(
        label=_("研習對象教育階段"),
        choices=Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不勾選表示所有教育階段。"),
    )

    class Meta:
        model = Course
        fields = [
            "title",
            "start_date",
            "end_date",
            "hours",
            "place",
            "mode",
            "domain",
            "sub_topic",
            "tags",
            "audience_authorities",
            "capacity",
            "enrol_opens_at",
            "enrol_closes_at",
            "admission",
            "contact_name",
            "contact_phone",
            "contact_email",
            "description",
        ]
        widgets = {
            "mode": forms.RadioSelect,
            "admission": forms.RadioSelect,
            "domain": forms.RadioSelect,
            "tags": forms.CheckboxSelectMultiple,
            "audience_authorities": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "hours": _("每天最多 10 小時。"),
            "audience_authorities": _("不勾選表示全國教師皆可報名。"),
        }

    REQUIRED = (
        "start_date",
        "end_date",
        "hours",
        "place",
        "domain",
        "capacity",
        "enrol_opens_at",
        "enrol_closes_at",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED:
            self.fields[name].required = True
        self.fields["domain"].choices = [c for c in self.fields["domain"].choices if c[0]]
        self.fields["tags"].queryset = Tag.objects.all()
        self.fields["audience_authorities"].queryset = Unit.objects.authorities().order_by("code")
        if self.instance.pk:
            stages = [row.stage for row in self.instance.audience_stages.all()]
            self.initial["audience_stages"] = [] if len(stages) == len(Stage.values) else stages

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        tags = data.pop("tags")
        authorities = data.pop("audience_authorities")
        stages = data.pop("audience_stages")
        return {"fields": data, "tags": tags, "stages": stages, "authorities": authorities}


class AttendanceUploadForm(forms.Form):
    file = forms.FileField(
        label=_("出席資料檔（.xlsx 或 .csv）"),
        help_text=_(
            "即下載的報名名單：第一列為標題列，欄位「報名序號」及「研習時數」（最多一位小數，空白以 0 計）。"
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("請上傳 .xlsx 或 .csv 檔案。"))
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("檔案超過 %(mb)s MB 的上限，請分成數個檔案上傳；未寫入任何資料。")
                % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class AdmitForm(forms.Form):
    """審核錄取: the queue (applicants, or the waiting list after the announcement) in enrolment order."""

    enrolments = forms.MultipleChoiceField(
        label=_("錄取名單（依報名先後排列）"), required=False, widget=forms.CheckboxSelectMultiple
    )
    skip_reason = forms.CharField(
        label=_("略過理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("錄取較晚報名者而略過較早報名者時必填，會記錄在課程中。"),
    )

    def __init__(self, *args, queue, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolments"].choices = [
            (
                str(e.pk),
                _("第 %(n)d 位　%(name)s（報名時間 %(at)s）")
                % {
                    "n": position,
                    "name": e.person.masked_name,
                    "at": format_roc_datetime(timezone.localtime(e.applied_at)),
                },
            )
            for position, e in enumerate(queue, start=1)
        ]


class CorrectionForm(forms.Form):
    hours_after = forms.DecimalField(
        label=_("更正後時數"), min_value=Decimal("0"), max_digits=6, decimal_places=1
    )
    reason = forms.CharField(label=_("更正理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class SessionForm(forms.Form):
    """場次: a date (ROC) and its start and end times (24-hour, Asia/Taipei) and the hours it counts."""

    date = RocDateField(label=_("日期"))
    starts_at = forms.TimeField(
        label=_("開始時間"), help_text=_("24 小時制，例如 09:00。"), widget=forms.TimeInput(format="%H:%M")
    )
    ends_at = forms.TimeField(
        label=_("結束時間"), help_text=_("24 小時制，例如 12:00。"), widget=forms.TimeInput(format="%H:%M")
    )
    hours = forms.DecimalField(
        label=_("時數"),
        min_value=Decimal("0.5"),
        max_digits=4,
        decimal_places=1,
        help_text=_("例如 3 或 1.5。"),
    )
