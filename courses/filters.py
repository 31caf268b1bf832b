"""研習課程查詢 (public): the search form and its filters (django-filter)."""

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import Stage, Unit
from core.forms import RocDateField
from courses import selectors
from courses.choices import Domain, Mode
from courses.models import AudienceStage, Course, Tag

# The two lists change a few times a year at most; the public search reads them on every request.
CHOICES_SECONDS = 300


def authority_choices():
    return cache.get_or_set(
        "courses:search:authorities",
        lambda: [
            (str(pk), name)
            for pk, name in Unit.objects.authorities().order_by("code").values_list("pk", "name")
        ],
        CHOICES_SECONDS,
    )


def tag_choices():
    return cache.get_or_set(
        "courses:search:tags",
        lambda: [(str(pk), name) for pk, name in Tag.objects.values_list("pk", "name")],
        CHOICES_SECONDS,
    )


class RocDateFilter(django_filters.DateFilter):
    """A date typed in the ROC calendar (113/8/5, 113年8月5日) or ISO."""

    field_class = RocDateField


class CourseSearchFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("課程代碼"), method="filter_code")
    q = django_filters.CharFilter(label=_("課程名稱關鍵字"), method="filter_words")
    authority = django_filters.ChoiceFilter(
        label=_("主管機關"), choices=authority_choices, method="filter_authority", empty_label=_("全部")
    )
    stage = django_filters.ChoiceFilter(
        label=_("研習對象教育階段"), choices=Stage.choices, method="filter_stage", empty_label=_("全部")
    )
    tag = django_filters.ChoiceFilter(
        label=_("屬性標籤"), choices=tag_choices, method="filter_tag", empty_label=_("全部")
    )
    domain = django_filters.ChoiceFilter(label=_("研習範疇"), choices=Domain.choices, empty_label=_("全部"))
    mode = django_filters.ChoiceFilter(label=_("在職進修方式"), choices=Mode.choices, empty_label=_("全部"))
    date_from = RocDateFilter(
        label=_("上課日期（起）"), field_name="end_date", lookup_expr="gte", help_text=_("例如 113/8/5")
    )
    date_to = RocDateFilter(
        label=_("上課日期（迄）"), field_name="start_date", lookup_expr="lte", help_text=_("例如 113/8/31")
    )
    open_now = django_filters.BooleanFilter(
        label=_("只顯示目前開放報名的課程"), method="filter_open_now", widget=forms.CheckboxInput
    )

    class Meta:
        model = Course
        fields: list[str] = []

    def filter_code(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(code=value) if value else queryset

    def filter_words(self, queryset, name, value):
        for word in value.split()[:5]:
            queryset = queryset.filter(title__icontains=word)
        return queryset

    def filter_authority(self, queryset, name, value):
        return queryset.filter(authority_id=int(value))

    def filter_stage(self, queryset, name, value):
        # Courses for every stage list all six, so one indexed look-up answers (courses.services).
        return queryset.filter(Exists(AudienceStage.objects.filter(course=OuterRef("pk"), stage=value)))

    def filter_tag(self, queryset, name, value):
        through = Course.tags.through
        return queryset.filter(Exists(through.objects.filter(course_id=OuterRef("pk"), tag_id=int(value))))

    def filter_open_now(self, queryset, name, value):
        return selectors.open_now(queryset) if value else queryset

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read each list once per request (django-filter would call the callables on every iteration).
        self.filters["authority"].extra["choices"] = authority_choices()
        self.filters["tag"].extra["choices"] = tag_choices()

    def select_fields(self) -> list[dict]:
        """The option lists for the hand-written <select>s of the search page (cheaper than widget templates)."""
        out = []
        for name in ("authority", "stage", "tag", "domain", "mode"):
            field = self.form[name]
            current = str(field.value() or "")
            out.append(
                {
                    "field": field,
                    "options": [
                        (str(value), label, str(value) == current) for value, label in field.field.choices
                    ],
                }
            )
        return out

    @property
    def has_criteria(self) -> bool:
        return any(value not in (None, "", False) for value in (self.form.cleaned_data or {}).values())
