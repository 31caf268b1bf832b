import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.authorities import authority_sort_key
from accounts.models import BusinessAccount, SecurityEvent, SecurityEventKind, Unit


def authority_choices():
    authorities = sorted(Unit.objects.authorities(), key=lambda unit: authority_sort_key(unit.code))
    return [(unit.code, unit.name) for unit in authorities]


class DirectoryFilter(django_filters.FilterSet):
    """業務帳號查詢: search by unit code or name, narrow by competent authority."""

    q = django_filters.CharFilter(label=_("單位名稱或代碼"), method="filter_unit")
    authority = django_filters.ChoiceFilter(
        label=_("主管機關"), choices=authority_choices, method="filter_authority", empty_label=_("全部")
    )

    class Meta:
        model = BusinessAccount
        fields: list[str] = []

    def filter_unit(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(unit__code__iexact=value) | Q(unit__name__icontains=value))
            if value
            else queryset
        )

    def filter_authority(self, queryset, name, value):
        return queryset.filter(Q(unit__authority__code=value) | Q(unit__code=value))

    @property
    def has_criteria(self) -> bool:
        return any((self.form.cleaned_data or {}).get(key) for key in ("q", "authority"))


class SecurityEventFilter(django_filters.FilterSet):
    """安全稽核紀錄: narrow by event, account, address and period."""

    kind = django_filters.ChoiceFilter(
        label=_("事件"), choices=SecurityEventKind.choices, empty_label=_("全部")
    )
    username = django_filters.CharFilter(label=_("使用者帳號"), lookup_expr="iexact")
    ip = django_filters.CharFilter(label=_("來源位址"), lookup_expr="exact")
    since = django_filters.DateFilter(label=_("起日（含）"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("迄日（含）"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = SecurityEvent
        fields: list[str] = []
