"""app/api/deps.py: the Segment write key from an HTTP Basic header."""

from __future__ import annotations

import base64

import pytest

from app.api.deps import basic_username


def basic(credentials: bytes, scheme: str = "Basic") -> str:
    return f"{scheme} {base64.b64encode(credentials).decode()}"


def test_write_key_with_empty_password() -> None:
    assert basic_username(basic(b"test-key:")) == "test-key"


def test_write_key_with_password() -> None:
    assert basic_username(basic(b"key:secret:with:colons")) == "key"


def test_write_key_without_colon() -> None:
    assert basic_username(basic(b"just-key")) == "just-key"


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "BaSiC"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    assert basic_username(basic(b"k:", scheme)) == "k"


def test_surrounding_whitespace_is_ignored() -> None:
    assert basic_username(f"Basic   {base64.b64encode(b'k:').decode()}  ") == "k"


def test_utf8_username() -> None:
    assert basic_username(basic("nøkkel:".encode())) == "nøkkel"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        "Bearer abc.def",
        "BasicdGVzdDo=",
        "Basic not base64!!",
        "Basic dGVzdDo",  # bad padding
        basic(b":password"),  # empty username
        basic(b""),
        basic(b"\xff\xfe:"),  # not UTF-8
        "Basic é",  # non-ASCII (latin-1 decoded header bytes)
        "Basic dGVzdDo=é",
    ],
)
def test_garbage_or_absent_gives_none(header: str | None) -> None:
    assert basic_username(header) is None


def test_next_action_keeps_one_resolver_per_process() -> None:
    """The onsite resolver remembers the published documents it last read (checked by stamp on each decision),
    so the route must not make a new one per request."""
    from typing import cast

    from neo4j import Driver

    from app.api.next_action import get_resolver
    from app.api.services import Services
    from app.kafka import AckProducer
    from app.settings import Settings

    services = Services(settings=Settings(), driver=cast(Driver, object()), producer=cast(AckProducer, object()),
                        bootstrap="")
    assert get_resolver(services) is get_resolver(services)
