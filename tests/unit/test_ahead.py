"""`built_ahead`: items in order, built in another thread, errors raised at their item, early stops clean."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.graph.ahead import built_ahead


def test_items_come_in_order_built_in_another_thread() -> None:
    threads: set[int] = set()

    def items() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    assert list(built_ahead(items())) == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_an_error_while_building_is_raised_at_its_item() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 failed")

    got: list[int] = []
    with pytest.raises(ValueError, match="row 3 failed"):
        for item in built_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_builder() -> None:
    built: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            built.append(i)
            yield i

    with pytest.raises(RuntimeError):
        for item in built_ahead(items(), depth=2):
            if item == 3:
                raise RuntimeError("the statement failed")
    assert len(built) <= 3 + 2 + 2  # at most `depth` ahead, plus the one in the builder's hands
    assert not [t for t in threading.enumerate() if t.name == "statement-builder"]
