from django import forms
from django.utils.translation import gettext_lazy as _

from planning.models import PlanningCycle


class StartRunForm(forms.Form):
    """The years that can be rewarded come from the data: ended years with a cycle or hours."""

    year = forms.TypedChoiceField(label=_("學年度"), coerce=int)

    def __init__(self, *args, **kwargs):
        from rewards.services import rewardable_years

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
