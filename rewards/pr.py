"""百分等級 (PR): the notice's formula, exactly as SPEC §7 defines it. Pure, no Django.

    PR = [cf_L + ((X − X_L) / i) × f_x] × 100 / N

over the values X of the N members of one group. Classes have width i and are centred on
multiples of i: the class of X is [c − i/2, c + i/2) with c = round-half-up(X / i) × i;
X_L = c − i/2 (the real lower limit); f_x = members in X's class; cf_L = members below X_L.

Every figure is exact: the values and i are brought to one integer scale (their common
denominator), so a class limit, a count and the PR itself never pass through a float. PR comes
back as a Fraction; decide on it with `is_top_30`, show it with `shown` (2 decimals rounded
down, so a PR shown as 70.00 is always ≥ 70).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

Number = int | Decimal | Fraction

TOP_30_PR = 70  # "前 30%" means PR ≥ 70


@dataclass(frozen=True)
class Rank:
    """One value's place in its group: the formula's inputs and its result."""

    pr: Fraction
    class_centre: Fraction  # c
    lower_limit: Fraction  # X_L
    below: int  # cf_L
    in_class: int  # f_x
    size: int  # N


def _ratio(value: Number) -> tuple[int, int]:
    if isinstance(value, float):
        raise TypeError("PR needs exact values (int, Decimal or Fraction), not float")
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


def ranks(values: Sequence[Number], width: Number = 1) -> list[Rank]:
    """The Rank of each value among `values` (one group), in the order given."""
    if not values:
        return []
    by_value = ranks_of_counts(Counter(values), width)
    return [by_value[value] for value in values]


def ranks_of_counts(counts: Mapping[Number, int], width: Number = 1) -> dict[Number, Rank]:
    """The Rank of each distinct value of a group given as {value: members with that value}.

    Equal values share one rank, so a group is ranked from its distinct values alone (the job
    hands over 35,000 (group, hours) counts instead of 200,000 teachers).
    """
    if not counts:
        return {}
    width_n, width_d = _ratio(width)
    if width_n <= 0:
        raise ValueError("the class width i must be positive")
    ratios = {value: _ratio(value) for value in counts}
    # One integer scale for the whole group: i/2 must be whole too, hence the 2.
    scale = math.lcm(2 * width_d, *{d for _, d in ratios.values()})
    w = width_n * scale // width_d
    half = w // 2
    scaled = sorted((n * (scale // d), value) for value, (n, d) in ratios.items())
    keys = [x for x, _ in scaled]
    cumulative = [0]  # cumulative[k] = members with a value below keys[k]
    for _, value in scaled:
        cumulative.append(cumulative[-1] + counts[value])
    size = cumulative[-1]
    by_value: dict[Number, Rank] = {}
    for x, value in scaled:
        # round-half-up(X / i): floor(X / i + 1/2), in integers.
        centre = (2 * x + w) // (2 * w) * w
        lower = centre - half
        below = cumulative[bisect_left(keys, lower)]
        in_class = cumulative[bisect_left(keys, centre + half)] - below
        by_value[value] = Rank(
            pr=Fraction(100 * (below * w + (x - lower) * in_class), w * size),
            class_centre=Fraction(centre, scale),
            lower_limit=Fraction(lower, scale),
            below=below,
            in_class=in_class,
            size=size,
        )
    return by_value


def percentile_ranks(values: Sequence[Number], width: Number = 1) -> list[Fraction]:
    """PR of each value among `values`, exact, in the order given."""
    return [rank.pr for rank in ranks(values, width)]


def is_top_30(pr: Fraction) -> bool:
    return pr >= TOP_30_PR


def floor_decimal(value: Number, places: int) -> Decimal:
    """Rounded down to `places` decimals, exactly (never through a float)."""
    numerator, denominator = _ratio(value)
    return Decimal(numerator * 10**places // denominator).scaleb(-places)


def shown(value: Number | None) -> Decimal | None:
    """A PR (or A, an average) as every page, list and export shows it: 2 decimals rounded down,
    so a PR shown as 70.00 was awarded on that count (the decision keeps the exact value)."""
    return None if value is None else floor_decimal(value, 2)


def shown_text(value: Number | None) -> str:
    """`shown` as text for the pages: 70.00, 66.66; empty when there is no figure."""
    return "" if value is None else f"{shown(value):f}"
