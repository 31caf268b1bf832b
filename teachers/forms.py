"""Input parsing of the roster screens; no database writes here."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import national_id
from accounts.forms import NewPasswordMixin
from accounts.national_id import validate_national_id
from core.forms import RocDateField
from teachers.models import MANAGER_END_REASONS, Category
from teachers.selectors import PAGE_SIZES, RosterState


class NationalIdInput(forms.TextInput):
    """Never echoes the number back into the page, even when the form is shown again with errors."""

    def format_value(self, value):
        return None


class SubjectsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.name


def _national_id_field(help_text=""):
    return forms.CharField(
        label=_("身分證字號或居留證號"),
        max_length=10,
        validators=[validate_national_id],
        widget=NationalIdInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=help_text,
    )


class TeacherApplyForm(NewPasswordMixin, forms.Form):
    """申請教師帳號 (public)."""

    national_id = _national_id_field()
    name = forms.CharField(
        label=_("姓名"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    username = forms.CharField(
        label=_("使用者帳號"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        help_text=_("英文字母、數字及 @ . + - _。"),
    )
    email = forms.EmailField(
        label=_("電子郵件"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("登入及重設密碼用；不能與您的業務帳號使用同一個電子郵件。"),
    )
    password1 = NewPasswordMixin.password_field()
    password2 = NewPasswordMixin.confirmation_field()

    def clean_national_id(self):
        return national_id.normalize(self.cleaned_data["national_id"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if username.lower().startswith("deleted-"):
            raise forms.ValidationError(_("使用者帳號不能以 deleted- 開頭。"))
        return username


class RosterFilterForm(forms.Form):
    """教師姓名查詢 and 進階篩選 (GET: names and subjects only, never an ID)."""

    q = forms.CharField(label=_("教師姓名查詢"), max_length=60, required=False)
    subject = forms.TypedChoiceField(label=_("依任教科目篩選"), required=False, coerce=int, empty_value=None)
    supervision = forms.BooleanField(label=_("依教育部統合視導篩選"), required=False)
    state = forms.ChoiceField(label=_("依帳號狀況篩選"), required=False)
    size = forms.TypedChoiceField(
        label=_("每頁筆數"),
        choices=[(n, str(n)) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=PAGE_SIZES[0],
    )

    def __init__(self, *args, subjects, min_hours: int, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices from a list the view already holds: one query for the whole form.
        self.fields["subject"].choices = [("", _("全部科目"))] + [(s.pk, s.name) for s in subjects]
        self.fields["state"].choices = [("", _("全部帳號狀況")), *RosterState.choices]
        self.fields["supervision"].help_text = _("只列出本學年度核發研習時數未達 %(hours)s 小時的教師。") % {
            "hours": min_hours
        }


class MembershipForm(forms.Form):
    """編輯帳號個人資料 (manager)."""

    category = forms.ChoiceField(label=_("類別"), choices=Category.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("職稱"), max_length=60, required=False)
    subjects = SubjectsField(label=_("任教科目"), queryset=None, required=False)
    email = forms.EmailField(label=_("電子郵件"), required=False)

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].queryset = subjects


class ProfileForm(forms.Form):
    """修改個人基本資料 (teacher)."""

    title = forms.CharField(label=_("職稱"), max_length=60, required=False)
    subjects = SubjectsField(
        label=_("任教科目"),
        queryset=None,
        required=False,
        help_text=_("以目前（本學期）實際任教科目為主；不只任教一科，可勾選多個科目。"),
    )

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].queryset = subjects


class RegisterForm(forms.Form):
    """教師資料登錄 (manager): a new teacher, or one serving elsewhere who moves here."""

    national_id = _national_id_field(
        help_text=_("已在其他單位服務的教師，登錄後會轉入本單位（原服務紀錄於到職日前一天以「轉校」結束）。")
    )
    name = forms.CharField(label=_("姓名"), max_length=60)
    email = forms.EmailField(label=_("電子郵件"), required=False)
    category = forms.ChoiceField(
        label=_("類別"), choices=Category.choices, widget=forms.RadioSelect, initial=Category.TEACHER
    )
    title = forms.CharField(label=_("職稱"), max_length=60, required=False)
    subjects = SubjectsField(label=_("任教科目"), queryset=None, required=False)
    start_date = RocDateField(label=_("到職日期"))

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].queryset = subjects
        self.fields["start_date"].initial = timezone.localdate()

    def clean_national_id(self):
        return national_id.normalize(self.cleaned_data["national_id"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()


class EndMembershipForm(forms.Form):
    """離職/轉校/退休: reason and date; the page asks for confirmation before the change."""

    reason = forms.ChoiceField(
        label=_("異動原因"),
        choices=[(r.value, r.label) for r in MANAGER_END_REASONS],
        widget=forms.RadioSelect,
    )
    end_date = RocDateField(label=_("異動日期（最後服務日）"))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
