import re

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.mfa.base.forms import AuthenticateForm as AllauthMFAAuthenticateForm
from django import forms
from django.contrib.auth import password_validation
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts import national_id
from accounts.models import BusinessAccountType, Person, Unit, User
from accounts.national_id import validate_national_id
from core.validation import TextValidator, validate_username


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form with a label that says what may be typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("帳號或電子郵件")
        self.fields["login"].widget.attrs["autocomplete"] = "username"
        # allauth puts a "forgot password" link in the password's help text, between the two
        # fields: Tab from 帳號 then lands on the link instead of 密碼, and the page has two such
        # links. The page's own link below the form is the one.
        self.fields["password"].help_text = ""


class MFAAuthenticateForm(AllauthMFAAuthenticateForm):
    """The code step of sign-in: the field has focus, so the code can be typed straight away."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = _("驗證碼")
        self.fields["code"].widget.attrs.update({"autofocus": True, "placeholder": ""})


class NationalIdInput(forms.TextInput):
    """Never echoes the number back into the page, even when the form is shown again with errors."""

    def format_value(self, value):
        return None


MSG_ID_NOT_REPEATED = _("為保護個人資料，送出後不會再顯示身分證字號，請重新輸入。")


class NationalIdField(forms.CharField):
    """A national ID as people paste it: spaces or dashes inside (A123 456 789) are dropped."""

    widget = NationalIdInput

    def to_python(self, value):
        return re.sub(r"[\s-]+", "", national_id.normalize(super().to_python(value)))


class NewPasswordMixin:
    """The password rules of a new account, for every form that creates one (業務帳號申請,
    申請教師帳號): the two entries agree and AUTH_PASSWORD_VALIDATORS pass against an unsaved user
    carrying the typed username and e-mail, so UserAttributeSimilarityValidator has something to
    compare (without a user it checks nothing, and a password equal to the username passed)."""

    @staticmethod
    def password_field() -> forms.CharField:
        return forms.CharField(
            label=_("密碼"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            # The rules before the first try, not only in the refusal.
            help_text=lazy(password_validation.password_validators_help_text_html, str)(),
        )

    @staticmethod
    def confirmation_field() -> forms.CharField:
        return forms.CharField(
            label=_("確認密碼"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("兩次輸入的密碼不一致。"))
        elif first:
            applicant = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(first, user=applicant)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class BusinessAccountApplyForm(NewPasswordMixin, forms.Form):
    unit_code = forms.CharField(
        label=_("單位代碼"),
        max_length=10,
        validators=[TextValidator(_("單位代碼"))],
        help_text=_("學校請填教育部 6 碼學校代碼；其他單位請填本網站的單位代碼。"),
    )
    account_type = forms.ChoiceField(
        label=_("申請的帳號類型"),
        choices=BusinessAccountType.choices,
        widget=forms.RadioSelect,
        help_text=_("大專校院、法人及社教機構僅提供作業人員。"),
    )
    national_id = NationalIdField(
        label=_("身分證字號或居留證號"),
        validators=[validate_national_id],
        widget=NationalIdInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("每一組身分證字號僅能申請一組業務帳號。"),
    )
    # Lengths are the columns' own (core.validation.check_text, shared with the importers).
    name = forms.CharField(
        label=_("姓名"),
        max_length=Person._meta.get_field("name").max_length,
        validators=[TextValidator(_("姓名"))],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("電子郵件"),
        max_length=User._meta.get_field("email").max_length,
        validators=[TextValidator(_("電子郵件"))],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("聯絡電話"),
        max_length=30,
        validators=[TextValidator(_("聯絡電話"))],
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    username = forms.CharField(
        label=_("使用者帳號"),
        max_length=150,
        validators=[validate_username],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
        help_text=_("英文字母、數字及 . _ -；帳號刪除後，若無人使用，可再以原帳號申請。"),
    )
    password1 = NewPasswordMixin.password_field()
    password2 = NewPasswordMixin.confirmation_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Shown again after a refusal: say why the ID box is empty (it is never echoed back).
            field = self.fields["national_id"]
            field.help_text = format_lazy("{} {}", field.help_text, MSG_ID_NOT_REPEATED)

    def clean_unit_code(self):
        code = self.cleaned_data["unit_code"].strip()
        unit = Unit.objects.filter(code__iexact=code).first()
        if unit is None:
            raise forms.ValidationError(_("查無此單位代碼。"))
        self.unit = unit
        return unit.code

    def clean_national_id(self):
        return national_id.normalize(self.cleaned_data["national_id"])

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if username.lower().startswith("deleted-"):
            raise forms.ValidationError(_("使用者帳號不能以 deleted- 開頭。"))
        return username


class ChangeTypeForm(forms.Form):
    new_type = forms.ChoiceField(label=_("新的帳號類型"), widget=forms.RadioSelect)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_type"].choices = choices
