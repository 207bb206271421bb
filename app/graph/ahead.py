"""Build a transaction's statements one step ahead of sending them.

`built_ahead(items)` iterates `items` in a helper thread, at most `depth` items ahead of the caller. While
the caller waits for the graph to run one statement (a socket read, which releases the GIL), the helper
builds the next statement's rows. The items must be built from state that nobody changes meanwhile, and
must not touch the transaction. An exception raised while building reaches the caller at that item; when
the caller stops early, the helper stops after the item it is building.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar, cast

T = TypeVar("T")
_DONE = object()


def built_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield `items` in order, each built in a helper thread while the caller uses the previous ones."""
    handoff: queue.Queue[tuple[object, T | BaseException | None]] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def put(entry: tuple[object, T | BaseException | None]) -> bool:
        while not stopped.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def build() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))

    helper = threading.Thread(target=build, name="statement-builder", daemon=True)
    helper.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind is _DONE:
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield cast(T, value)
    finally:
        stopped.set()
        helper.join()
