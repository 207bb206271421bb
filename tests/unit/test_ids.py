"""The fast deterministic id matches the standard library's uuid5 text."""

from __future__ import annotations

import json
import uuid

import pytest

from graph_models.ids import sorted_json, url_uuid5


@pytest.mark.parametrize("name", ["", "journeys:person:userId:u1", "journeys:measurement:visit:e1|3",
                                  "journeys:delivery:é漢字", "x" * 500])
def test_url_uuid5_is_uuid5_of_the_url_namespace(name: str) -> None:
    assert url_uuid5(name) == str(uuid.uuid5(uuid.NAMESPACE_URL, name))


@pytest.mark.parametrize("value", [{}, {"b": 1, "a": [1, "x", None]}, {"é": {"z": 1.5, "y": True}}, [], "text"])
def test_sorted_json_is_json_dumps_with_sorted_keys(value: object) -> None:
    assert sorted_json(value) == json.dumps(value, sort_keys=True)
    assert sorted_json({"v": value, "t": object}, default_str=True) == json.dumps({"v": value, "t": object},
                                                                                 sort_keys=True, default=str)


def test_to_iso_matches_datetime_isoformat() -> None:
    import datetime as dt
    import random

    from app.clock import to_iso

    rng = random.Random(3)
    for ms in [0, 999, 1000, 1_772_359_200_123, 3_999_999_999_999, 4_000_000_000_000, -1, 10**14,
               *(rng.randrange(0, 4_100_000_000_000) for _ in range(20_000))]:
        expected = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
        assert to_iso(ms) == expected.replace("+00:00", "Z")


def test_rows_and_text_pack_like_a_list_and_a_str_but_print_short() -> None:
    from neo4j._codec.packstream.v1 import Packer  # the driver's packer (the Rust one when installed)

    from app.graph.params import Rows, Text

    def packed(value: object) -> bytes:
        buffer = bytearray()

        class Stream:
            def write(self, data: bytes) -> None:
                buffer.extend(data)

        Packer(Stream()).pack(value)  # type: ignore[no-untyped-call]
        return bytes(buffer)

    rows = [{"a": 1, "b": "x", "c": [1.5, None]}] * 3
    assert packed({"rows": Rows(rows), "t": Text("hello")}) == packed({"rows": rows, "t": "hello"})
    assert repr({"rows": Rows(rows), "t": Text("hello")}) == "{'rows': <3 rows>, 't': <5 characters>}"
