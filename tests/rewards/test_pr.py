"""The PR formula of SPEC §7 on hand-computed examples (rewards/pr.py)."""

from decimal import Decimal
from fractions import Fraction

import pytest

from rewards import pr


def test_pr_follows_the_notice_formula_on_a_hand_computed_group():
    # N = 5, i = 1. X=3: c=3, X_L=2.5, cf_L=3 (1, 2, 2), f_x=1 -> (3 + 0.5*1) * 100/5 = 70.
    assert pr.percentile_ranks([1, 2, 2, 3, 5]) == [10, 40, 40, 70, 90]


def test_pr_exactly_70_is_top_30_and_shown_as_70_00():
    ranks = pr.percentile_ranks([1, 2, 2, 3, 5])
    assert ranks[3] == 70
    assert pr.is_top_30(ranks[3])
    assert pr.shown(ranks[3]) == Decimal("70.00")
    assert not pr.is_top_30(ranks[1])


def test_pr_just_below_70_is_not_top_30_and_never_shown_as_70():
    below = Fraction(6999999, 100000)
    assert not pr.is_top_30(below)
    assert pr.shown(below) == Decimal("69.99")


def test_pr_uses_the_real_lower_limit_of_the_class_centred_on_a_multiple_of_i():
    # 2.4 rounds to class 2 = [1.5, 2.5) with 2 itself: f_x=2, cf_L=0 -> 0.9*2*100/3 = 60.
    values = [Decimal("2.4"), Decimal("2.0"), Decimal("3.0")]
    assert pr.percentile_ranks(values) == [60, Fraction(100, 3), Fraction(250, 3)]
    rank = pr.ranks(values)[0]
    assert (rank.class_centre, rank.lower_limit, rank.below, rank.in_class, rank.size) == (
        2,
        Fraction(3, 2),
        0,
        2,
        3,
    )


def test_class_centre_rounds_half_up():
    # 2.5 / 1 rounds up to 3: class [2.5, 3.5), X - X_L = 0.
    rank = pr.ranks([Decimal("2.5"), Decimal("1.0")])[0]
    assert rank.class_centre == 3
    assert rank.lower_limit == Fraction(5, 2)
    assert rank.pr == 50  # cf_L = 1 of N = 2


def test_ties_share_one_pr():
    ranks = pr.percentile_ranks([Decimal("7.5"), Decimal("7.5"), Decimal("7.5"), Decimal("1.0")])
    assert ranks[0] == ranks[1] == ranks[2]
    # class 8 = [7.5, 8.5): cf_L = 1, f_x = 3, X - X_L = 0 -> 1 * 100/4 = 25.
    assert ranks[0] == 25


def test_one_member_group_gets_the_position_inside_its_own_class():
    # N = 1: PR = (X - X_L)/i * 100 — an integer value sits at the middle of its class.
    assert pr.percentile_ranks([5]) == [50]
    assert pr.percentile_ranks([Decimal("5.3")]) == [80]
    assert pr.percentile_ranks([Decimal("4.6")]) == [10]


def test_all_zero_hours_give_everyone_pr_50():
    assert pr.percentile_ranks([0, 0, 0, 0]) == [50, 50, 50, 50]
    assert not any(pr.is_top_30(x) for x in pr.percentile_ranks([0, 0, 0, 0]))


def test_width_other_than_one():
    # i = 2: classes centred on 0, 2, 4, 6, 8; 1 and 3 and 7 sit on a lower limit (half up).
    assert pr.percentile_ranks([0, 1, 3, 4, 7], width=2) == [10, 20, 40, 60, 80]


def test_fractional_width():
    # i = 0.5: 1.2 / 0.5 = 2.4 -> c = 1.0, X_L = 0.75, (0.45 / 0.5) * 100 = 90.
    assert pr.percentile_ranks([Decimal("1.2")], width=Decimal("0.5")) == [90]


def test_school_averages_as_fractions_are_exact():
    # 10/3 is alone in class 3 = [2.5, 3.5): (0 + (5/6) * 1) * 100/2 = 125/3.
    ranks = pr.percentile_ranks([Fraction(10, 3), Fraction(7, 2)])
    assert ranks[0] == Fraction(125, 3)
    # 7/2 is 3.5, which rounds half up to class 4: cf_L = 1, X - X_L = 0.
    assert ranks[1] == 50


def test_floats_are_refused():
    with pytest.raises(TypeError):
        pr.percentile_ranks([1.5])


def test_empty_group_and_bad_width():
    assert pr.percentile_ranks([]) == []
    with pytest.raises(ValueError):
        pr.percentile_ranks([1], width=0)


def test_shown_rounds_down_to_two_decimals():
    assert pr.shown(Fraction(200, 3)) == Decimal("66.66")
    assert pr.shown(Fraction(100)) == Decimal("100.00")
    assert pr.floor_decimal(Fraction(3, 5), 6) == Decimal("0.600000")


def _by_definition(values, width):
    """SPEC §7 read literally, member by member, in Fractions: the reference for the fast path."""
    import math

    i = Fraction(width)
    xs = [Fraction(v) for v in values]
    out = []
    for x in xs:
        c = math.floor(x / i + Fraction(1, 2)) * i
        lower = c - i / 2
        f_x = sum(1 for y in xs if lower <= y < lower + i)
        cf_l = sum(1 for y in xs if y < lower)
        out.append((cf_l + (x - lower) / i * f_x) * 100 / len(xs))
    return out


def test_pr_agrees_with_the_definition_on_random_groups():
    import random

    rng = random.Random(7)
    for _ in range(300):
        width = rng.choice([1, 2, Decimal("0.5"), Decimal("1.5"), Fraction(1, 3)])
        values = [Decimal(rng.randint(0, 60)) / 10 for _ in range(rng.randint(1, 15))]
        assert pr.percentile_ranks(values, width) == _by_definition(values, width), (values, width)


def test_ranks_from_counts_equal_ranks_of_the_expanded_group():
    counts = {Decimal("1.0"): 1, Decimal("2.0"): 2, Decimal("3.0"): 1, Decimal("5.0"): 1}
    by_value = pr.ranks_of_counts(counts)
    assert {v: r.pr for v, r in by_value.items()} == {
        Decimal("1.0"): 10,
        Decimal("2.0"): 40,
        Decimal("3.0"): 70,
        Decimal("5.0"): 90,
    }
    assert pr.ranks_of_counts({}) == {}


def test_every_display_of_a_figure_rounds_down_to_two_decimals_through_one_function():
    """rewards.pr.shown / shown_text: the pages (pr_shown), the explanation and the list exports."""
    from rewards.explain import figure
    from rewards.models import TeacherResult

    just_below = Decimal("69.999999")
    result = TeacherResult(pr=just_below, national_average=Decimal("2.666666"), hours=Decimal("3.0"))
    assert pr.shown(just_below) == Decimal("69.99") and pr.shown(None) is None
    assert (result.pr_shown, result.national_average_shown, result.hours_shown) == ("69.99", "2.66", "3.00")
    assert figure(just_below) == "69.99" and figure(None) == ""
    assert figure(just_below, 6) == "69.999999"
