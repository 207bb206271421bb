"""graph_models/principal.py and the journey API's keys: role permissions, JOURNEYS_API_KEYS, Bearer headers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.api.deps import bearer_token, principal_for_key
from app.settings import Settings
from graph_models.principal import ACTIONS, ApiKey, Principal, can, parse_api_keys, roles_for


def who(role: str) -> Principal:
    return Principal.model_validate({"name": f"someone-{role}", "role": role})


@pytest.mark.parametrize("action", ["lint", "read", "push", "submit"])
def test_authors_write_and_submit(action: str) -> None:
    assert can(who("author"), action)


@pytest.mark.parametrize("action", ["approve", "publish", "pause", "archive"])
def test_authors_cannot_decide_what_goes_live(action: str) -> None:
    assert not can(who("author"), action)


@pytest.mark.parametrize("action", ["lint", "read", "approve", "publish", "pause", "archive"])
def test_approvers_approve_publish_pause_archive(action: str) -> None:
    assert can(who("approver"), action)


@pytest.mark.parametrize("action", ["push", "submit"])
def test_approvers_do_not_author(action: str) -> None:
    assert not can(who("approver"), action)


@pytest.mark.parametrize("action", ACTIONS)
def test_admins_do_everything(action: str) -> None:
    assert can(who("admin"), action)


def test_unknown_actions_are_never_allowed() -> None:
    assert not any(can(who(role), "delete") for role in ("author", "approver", "admin"))


def test_roles_for_names_who_may() -> None:
    assert roles_for("approve") == ["approver", "admin"]
    assert roles_for("push") == ["author", "admin"]


def test_principal_role_is_checked() -> None:
    with pytest.raises(ValidationError):
        Principal.model_validate({"name": "x", "role": "owner"})


# --- JOURNEYS_API_KEYS -------------------------------------------------------------------------------------


def test_parse_api_keys() -> None:
    assert parse_api_keys(" ada:author:k-1 , grace:approver:k:2,,root:admin:k3 ") == [
        ApiKey("ada", "author", "k-1"), ApiKey("grace", "approver", "k:2"), ApiKey("root", "admin", "k3")]


def test_parse_api_keys_empty_means_none() -> None:
    assert parse_api_keys("") == []
    assert parse_api_keys(" , ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada:author", "entry 1 must look like name:role:key"),
        ("secret-key-only", "entry 1 must look like name:role:key"),
        ("ada:author:k1,grace::k2", "entry 2 must look like name:role:key"),
        (":author:k1", "must look like name:role:key"),
        ("ada:author:", "must look like name:role:key"),
        ("ada:owner:k1", "role 'owner'; the role must be one of author, approver, admin"),
        ("ada:author:k1,bob:admin:k1", "repeats a key"),
        ("ada:author:k1,ada:admin:k2", "repeats the name 'ada'"),
    ],
)
def test_invalid_api_keys_are_refused(text: str, expected: str) -> None:
    with pytest.raises(ValueError, match="JOURNEYS_API_KEYS") as info:
        parse_api_keys(text)
    assert expected in str(info.value)


def test_malformed_entry_is_not_echoed() -> None:
    with pytest.raises(ValueError) as info:
        parse_api_keys("ada:author:ok,super-secret-token")
    assert "super-secret-token" not in str(info.value)


def test_settings_default_api_key_is_the_dev_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYS_API_KEYS", raising=False)
    assert Settings().api_keys == [ApiKey("admin", "admin", "dev-admin-key")]


def test_settings_read_api_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_API_KEYS", "ada:author:k1,grace:approver:k2")
    assert Settings().api_keys == [ApiKey("ada", "author", "k1"), ApiKey("grace", "approver", "k2")]


def test_settings_fail_at_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_API_KEYS", "ada:writer:k1")
    with pytest.raises(ValidationError, match="JOURNEYS_API_KEYS"):
        Settings()


# --- Bearer keys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc  ", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic YWJjOg==", None),
        ("Bearerabc", None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_principal_for_key() -> None:
    keys = [ApiKey("ada", "author", "k1"), ApiKey("grace", "approver", "k2")]
    assert principal_for_key("k2", keys) == Principal(name="grace", role="approver")
    assert principal_for_key("k3", keys) is None
    assert principal_for_key("", keys) is None
    assert principal_for_key("k1", []) is None
