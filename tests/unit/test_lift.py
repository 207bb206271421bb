"""Conversion statistics against hand-computed and published answers (Newcombe 1998, Table II, method 10)."""

from __future__ import annotations

import math

import pytest

from app.measurement.lift import Z95, lift, rate, wilson


def test_wilson_by_hand() -> None:
    # 6/10: p = .6, z^2 = 3.8415; centre = (.6 + .19207) / 1.38415 = .57226; half = 1.96 * sqrt(.024 + .009604)
    # / 1.38415 = .25958 -> (.3127, .8318)
    z2 = Z95 ** 2
    centre = (0.6 + z2 / 20) / (1 + z2 / 10)
    half = Z95 * math.sqrt(0.024 + z2 / 400) / (1 + z2 / 10)
    got = wilson(6, 10)
    assert got is not None
    assert got.low == pytest.approx(centre - half) == pytest.approx(0.3127, abs=1e-4)
    assert got.high == pytest.approx(centre + half) == pytest.approx(0.8318, abs=1e-4)
    two = wilson(2, 10)
    assert two is not None and (round(two.low, 4), round(two.high, 4)) == (0.0567, 0.5098)


def test_wilson_edges() -> None:
    assert wilson(0, 0) is None and rate(0, 0) is None
    zero = wilson(0, 10)
    assert zero is not None and zero.low == 0.0 and zero.high == pytest.approx(0.2775, abs=1e-4)
    with pytest.raises(ValueError):
        wilson(11, 10)


@pytest.mark.parametrize(("a", "m", "b", "n", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_newcombe_published(a: int, m: int, b: int, n: int, low: float, high: float) -> None:
    got = lift(a, m, b, n)
    assert got is not None
    assert (round(got.interval.low, 4), round(got.interval.high, 4)) == (low, high)


def test_lift_six_of_ten_over_two_of_ten() -> None:
    # d = .4; low = .4 - sqrt((.6 - .3127)^2 + (.5098 - .2)^2) = -.0226; high = .4 + sqrt((.8318 - .6)^2 +
    # (.2 - .0567)^2) = .6725
    got = lift(6, 10, 2, 10)
    assert got is not None
    assert got.absolute == pytest.approx(0.4)
    assert got.relative == pytest.approx(2.0)
    assert got.interval.low == pytest.approx(-0.0226, abs=1e-4)
    assert got.interval.high == pytest.approx(0.6725, abs=1e-4)
    assert got.method == "newcombe-wilson-95"
    assert lift(1, 10, 0, 0) is None
    zero_control = lift(1, 10, 0, 10)
    assert zero_control is not None and zero_control.relative is None
