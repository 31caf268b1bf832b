"""One plain sentence per decision, from the figures a result row keeps (SPEC §7, B3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import UnitKind
from core.roc import format_roc_date
from rewards.pr import floor_decimal, shown_text
from teachers.models import Category


def figure(value: Decimal | None, places: int = 2) -> str:
    """A figure as shown (rewards.pr.shown_text), or rounded down to more `places` where two
    decimals would hide the difference that decided."""
    if value is None or places == 2:
        return shown_text(value)
    return f"{floor_decimal(value, places):f}"


def plain(value: Decimal | None) -> str:
    """A stored figure without trailing zeros: 0.6, 18.333333, 20."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{format_roc_date(local.date())} {local:%H:%M:%S}"


def _pair(value: Decimal, average: Decimal) -> tuple[str, str]:
    """Value and A at 2 decimals, or at 6 where 2 would show a difference as a tie."""
    shown_value, shown_average = figure(value), figure(average)
    if shown_value == shown_average and value != average:
        return figure(value, 6), figure(average, 6)
    return shown_value, shown_average


def _plan_clause(result, what: str) -> str:
    if result.window_opens_at is None:
        return f"本年度未設定{what}填報期程"
    window = f"{_when(result.window_opens_at)} 至 {_when(result.window_closes_at)}"
    if result.plan_submitted_at is None:
        return f"未於填報期程（{window}）內送出{what}（未送出）"
    if result.plan_in_window and result.plan_submitted_at > result.window_closes_at:
        return (
            f"已於 {_when(result.plan_submitted_at)} 送出{what}，晚於填報期程（{window}），"
            "但在教師進修網管理者核准的延長截止時間內，依規定視同於填報期程內送出"
        )
    if result.plan_in_window:
        return f"已於 {_when(result.plan_submitted_at)} 送出{what}，在填報期程（{window}）內"
    return f"於 {_when(result.plan_submitted_at)} 送出{what}，不在填報期程（{window}）內"


def _rank_clause(result, unit: str) -> str:
    group = f"{result.authority.name}{result.get_stage_display()}"
    clause = (
        f"在{group}共 {result.group_size} {unit}中的百分等級 PR 為 {figure(result.pr)}"
        f"（{'達' if result.top_30 else '未達'}前 30%，即 PR ≥ 70）"
    )
    if result.group_size == 1:
        clause += _alone_clause(result, unit)
    return clause


def _signed(value: Decimal) -> str:
    return plain(value).replace("-", "−")


def _alone_clause(result, unit: str) -> str:
    """A group of one, in words: the rule stays literal, PR is where the value sits in its class."""
    teacher = hasattr(result, "hours")
    what = "研習時數" if teacher else "教師平均研習時數"
    value = result.hours if teacher else result.average
    width = result.run.class_width
    lower = result.class_lower_limit
    return (
        f"；本組僅有 1 {unit}，沒有其他{unit[1:]}可以比較，"
        f"所以 PR 只看{what}落在所屬組距的哪個位置：{what} {plain(value)} 小時所在的組距"
        f"為 {_signed(lower)} 至 {_signed(lower + width)} 小時（組距 {plain(width)} 小時），"
        f"比組距下限多 {plain(value - lower)} 小時，占組距的 {figure(result.pr)}%，即 PR {figure(result.pr)}"
    )


def _verdict(result) -> str:
    return "符合獎勵標準。" if result.awarded else "未符合獎勵標準。"


def teacher_sentence(result) -> str:
    value, average = _pair(result.hours, result.national_average)
    parts = [
        f"研習時數 {value} 小時，{'達' if result.at_least_average else '未達'}全國平均 {average} 小時",
        _rank_clause(result, "位教師"),
        _plan_clause(result, "教師自我進修規劃"),
    ]
    return "；".join(parts) + "，" + _verdict(result)


def school_sentence(result) -> str:
    value, average = _pair(result.average, result.national_average)
    parts = [
        f"本校 {result.teachers} 位教師平均研習 {value} 小時，"
        f"{'達' if result.at_least_average else '未達'}全國平均 {average} 小時",
        _rank_clause(result, "所學校"),
        _plan_clause(result, "學校本位進修規劃"),
    ]
    return "；".join(parts) + "，" + _verdict(result)


def authority_sentence(result) -> str:
    rate = figure(result.fill_rate * 100)
    return (
        f"規劃範圍內所屬學校 {result.schools_total} 所，於填報期程內送出學校本位進修規劃者 "
        f"{result.schools_submitted} 所，填報率 {rate}%，{'達' if result.awarded else '未達'} 60%，"
        + _verdict(result)
    )


def outside_population(membership, day: dt.date) -> str:
    """Why a person has no teacher result: their membership on 31 July (or none)."""
    when = format_roc_date(day)
    if membership is None:
        return f"您於 {when} 沒有在職的服務紀錄，不在本年度獎勵的教師母體內。"
    unit = membership.unit
    if membership.category != Category.TEACHER:
        return f"您於 {when} 在{unit.name}的身分為「{membership.get_category_display()}」，獎勵對象限教師。"
    if unit.kind != UnitKind.SCHOOL:
        return f"您於 {when} 的服務單位{unit.name}不是中小學，不在本年度獎勵的教師母體內。"
    if not unit.in_planning_scope:
        return (
            f"您於 {when} 服務於{unit.name}（{unit.get_stage_display()}），"
            "獎勵對象限國小、國中、高中、高職及特殊教育學校之教師。"
        )
    return f"您於 {when} 的服務紀錄在本年度獎勵計算後才登錄，請洽學校確認。"
