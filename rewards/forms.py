from django import forms
from django.utils.translation import gettext_lazy as _

from planning.models import PlanningCycle
from rewards.services import rewardable_years


class StartRunForm(forms.Form):
    """The years that can be rewarded come from the data: ended years with a cycle or hours."""

    year = forms.TypedChoiceField(label=_("學年度"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = rewardable_years()
        with_cycle = set(PlanningCycle.objects.filter(year__in=years).values_list("year", flat=True))
        self.years_without_plans = [year for year in years if year not in with_cycle]
        self.fields["year"].choices = [
            (
                y,
                _("%(year)s 學年度") % {"year": y}
                if y in with_cycle
                else _("%(year)s 學年度（無填報期程）") % {"year": y},
            )
            for y in years
        ]
        self.fields["year"].initial = years[0] if years else None  # the last ended year
        self.fields["year"].help_text = _(
            "列出已結束、且有研習時數或進修規劃年度的學年度；預設為最近結束的學年度。"
        )


class YearForm(forms.Form):
    """Which published year a list or a look-up shows (GET; carries no personal data)."""

    year = forms.TypedChoiceField(label=_("學年度"), coerce=int, required=False)

    def __init__(self, *args, years, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, _("%(year)s 學年度") % {"year": y}) for y in years]
        self.years = years

    def chosen(self) -> int | None:
        if self.is_bound and self.is_valid() and self.cleaned_data["year"]:
            return self.cleaned_data["year"]
        return self.years[0] if self.years else None


class ListSearchForm(forms.Form):
    """獎勵名單 search (GET): which list, part of a school's code or name, part of a teacher's name."""

    SCHOOLS, TEACHERS = "schools", "teachers"

    show = forms.ChoiceField(
        label=_("名單"),
        choices=[(SCHOOLS, _("學校獎勵")), (TEACHERS, _("教師獎勵"))],
        required=False,
        initial=SCHOOLS,
    )
    school = forms.CharField(
        label=_("學校（代碼或名稱）"), max_length=60, required=False, help_text=_("可只填部分文字")
    )
    teacher = forms.CharField(
        label=_("教師姓名"),
        max_length=30,
        required=False,
        help_text=_("教師名單顯示遮蔽後的姓名；可只填部分文字"),
    )

    def __init__(self, *args, schools: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not schools:  # a school sees only its own teachers
            del self.fields["show"]
            del self.fields["school"]

    def values(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "show": data.get("show") or (self.SCHOOLS if "show" in self.fields else self.TEACHERS),
            "school": (data.get("school") or "").strip(),
            "teacher": (data.get("teacher") or "").strip(),
        }
