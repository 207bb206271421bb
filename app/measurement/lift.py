"""Conversion statistics (pure): rates with Wilson score intervals and lift as a difference of proportions with
Newcombe's hybrid score interval (method 10, from the two Wilson intervals), at 95% by default.

Newcombe's interval keeps sensible coverage for small groups and rates near 0 or 1, where the normal
approximation (Wald) does not; it is what `lift()` reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def rate(successes: int, trials: int) -> float | None:
    """successes / trials, None when there are no trials."""
    return successes / trials if trials > 0 else None


def wilson(successes: int, trials: int, z: float = Z95) -> Interval | None:
    """Wilson score interval of a proportion; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Lift:
    """Treated rate minus control rate (absolute, in proportion points), its interval, and the relative lift
    (treated / control - 1; None when the control rate is 0)."""

    treated_rate: float
    control_rate: float
    absolute: float
    interval: Interval
    relative: float | None
    method: str = "newcombe-wilson-95"


def lift(treated_conv: int, treated_n: int, control_conv: int, control_n: int, z: float = Z95) -> Lift | None:
    """Lift of the treated group over the control group; None when either group is empty."""
    w1, w2 = wilson(treated_conv, treated_n, z), wilson(control_conv, control_n, z)
    if w1 is None or w2 is None:
        return None
    p1, p2 = treated_conv / treated_n, control_conv / control_n
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Lift(p1, p2, d, Interval(low, high), (p1 / p2 - 1) if p2 > 0 else None,
                "newcombe-wilson-95" if z == Z95 else f"newcombe-wilson-z{z:g}")
