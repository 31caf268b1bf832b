"""The codes of every plan answer, defined once (SPEC §6, attachment 三 of the 113 notice).

Each multi-choice group is a `Question`; its options are stable codes with the notice's labels.
The database holds the codes (a check constraint built from `OPTIONS` refuses any other pair), the
statistics group and index them directly, and docs/planning.md lists them. Add an option at the
end of its group with a new code; never reuse or rename a code.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from courses import choices as courses_choices


class Question(models.TextChoices):
    MODE = "mode", _("在職進修方式")
    TIME = "time", _("在職進修時間")
    PLACE = "place", _("在職進修地點")
    LEVEL = "level", _("主要進修階層")
    METHOD = "method", _("主要實施方式")
    DOMAIN = "domain", _("主要研習範疇")


# 主要研習範疇 and the domains teachers plan hours in are the course domains (研習範疇), defined once
# in courses so that planned and actual hours line up domain by domain.
Domain = courses_choices.Domain


OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    Question.MODE: (
        ("non_credit", _("非學分班-研習時數")),
        ("credit_bachelor", _("學分班-學士層級進修")),
        ("credit_master", _("學分班-碩士層級進修")),
    ),
    Question.TIME: (
        ("weekday_day", _("週一至週五白天")),
        ("weekday_evening", _("週一至週五晚上")),
        ("saturday", _("週六")),
        ("sunday", _("週日")),
        ("summer", _("暑假")),
        ("winter", _("寒假")),
    ),
    Question.PLACE: (
        ("own_school", _("服務學校")),
        ("nearby_school", _("鄰近學校/社區學校")),
        ("institute", _("教師研習機構")),
        ("teacher_university", _("師資培育之大學")),
        ("online", _("電腦網路學習/遠距教學")),
        ("other_university", _("非師資培育之大學")),
        ("social", _("社教機構或民間團體")),
    ),
    Question.LEVEL: (
        ("basic", _("第一階基礎-瞭解熟悉")),
        ("advanced", _("第二階進階-應用分析")),
        ("leading", _("第三階領導-整合評價")),
        ("research", _("第四階研發-創新推廣")),
    ),
    Question.METHOD: (
        ("lecture", _("講授")),
        ("forum", _("座談")),
        ("workshop", _("工作坊")),
        ("visit", _("參訪實察")),
        ("observation", _("觀課議課")),
        ("digital", _("數位課程")),
    ),
    Question.DOMAIN: tuple(Domain.choices),
}

# The needs groups of 教師研習需求 (the form's fieldsets); 主要研習範疇 is its own section.
NEED_QUESTIONS = (Question.MODE, Question.TIME, Question.PLACE, Question.LEVEL, Question.METHOD)

OPTION_LABELS: dict[tuple[str, str], str] = {
    (question, code): label for question, options in OPTIONS.items() for code, label in options
}


def option_codes(question: str) -> list[str]:
    return [code for code, _label in OPTIONS[question]]


def valid_answer_condition() -> Q:
    """The database check: a (question, option) pair must be one of OPTIONS."""
    condition = Q()
    for question in Question.values:
        condition |= Q(question=question, option__in=option_codes(question))
    return condition
