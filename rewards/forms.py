from django import forms
from django.utils.translation import gettext_lazy as _

from core.roc import academic_year
from planning.models import PlanningCycle


def _default_year() -> int:
    from django.utils import timezone

    # The academic year that ended most recently.
    return academic_year(timezone.localdate()) - 1


class StartRunForm(forms.Form):
    year = forms.TypedChoiceField(label=_("學年度"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = list(PlanningCycle.objects.order_by("-year").values_list("year", flat=True))
        self.fields["year"].choices = [(y, _("%(year)s 學年度") % {"year": y}) for y in years]
        default = _default_year()
        self.fields["year"].initial = default if default in years else (years[0] if years else None)


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
