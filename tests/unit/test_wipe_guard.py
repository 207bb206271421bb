"""The test fixtures never wipe a database they did not start (tests/servers.py `wipe_refusal`)."""

from __future__ import annotations

import pytest

from tests.servers import ALLOW_WIPE_ENV, wipe_refusal

URI = "bolt://db.example:7687"


def test_servers_started_by_the_fixtures_may_be_wiped() -> None:
    assert wipe_refusal(started_here=True, bolt_uri=URI, database="neo4j", env={}) is None


def test_someone_elses_server_is_refused_with_the_way_out_named() -> None:
    reason = wipe_refusal(started_here=False, bolt_uri=URI, database="crm", env={})
    assert reason is not None
    assert "refusing to wipe database 'crm' at bolt://db.example:7687" in reason
    assert f"{ALLOW_WIPE_ENV}=1" in reason


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_explicit_opt_in_allows_wiping(value: str) -> None:
    assert wipe_refusal(started_here=False, bolt_uri=URI, database="neo4j", env={ALLOW_WIPE_ENV: value}) is None


@pytest.mark.parametrize("value", ["", "0", "false", "no", "maybe"])
def test_anything_else_is_no_opt_in(value: str) -> None:
    assert wipe_refusal(started_here=False, bolt_uri=URI, database="neo4j", env={ALLOW_WIPE_ENV: value}) is not None
