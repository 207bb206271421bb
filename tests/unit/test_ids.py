"""The fast deterministic id matches the standard library's uuid5 text."""

from __future__ import annotations

import uuid

import pytest

from graph_models.ids import url_uuid5


@pytest.mark.parametrize("name", ["", "journeys:person:userId:u1", "journeys:measurement:visit:e1|3",
                                  "journeys:delivery:é漢字", "x" * 500])
def test_url_uuid5_is_uuid5_of_the_url_namespace(name: str) -> None:
    assert url_uuid5(name) == str(uuid.uuid5(uuid.NAMESPACE_URL, name))
