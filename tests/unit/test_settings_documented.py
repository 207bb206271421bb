"""Every setting the README documents exists in app/settings.py, and `journeys serve` binds where they say."""

from __future__ import annotations

import re

import pytest

from app.cli import api_bind
from app.settings import REPO_ROOT, Settings


def readme_settings() -> set[str]:
    """The environment variable names in the README's Settings table (first and default columns)."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Settings (environment)", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = line.split("|")[1:3]  # variable and default columns
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "|".join(cells)))
    return names


def settings_env_names() -> set[str]:
    return {(field.alias or name).upper() for name, field in Settings.model_fields.items()}


def test_the_readme_table_is_found() -> None:
    assert {"NEO4J_URI", "JOURNEYS_API_HOST", "JOURNEYS_API_PORT", "JOURNEYS_WRITE_KEYS"} <= readme_settings()


@pytest.mark.parametrize("name", sorted(readme_settings()))
def test_each_readme_setting_exists(name: str) -> None:
    assert name in settings_env_names(), f"README documents {name} but app/settings.py has no such setting"


def test_each_readme_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"JOURNEYS_API_HOST": "127.0.0.2", "JOURNEYS_API_PORT": "9123", "NEO4J_DATABASE": "other",
              "JOURNEYS_TIMER_INTERVAL_S": "2.5", "JOURNEYS_LOAD_SAMPLES": "false"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert (settings.api_host, settings.api_port, settings.neo4j_database) == ("127.0.0.2", 9123, "other")
    assert settings.timer_interval_s == 2.5 and settings.load_samples is False


def test_serve_binds_to_the_settings_unless_flags_say_otherwise() -> None:
    settings = Settings(JOURNEYS_API_HOST="127.0.0.2", JOURNEYS_API_PORT=9001)
    assert api_bind(settings, None, None) == ("127.0.0.2", 9001)
    assert api_bind(settings, "127.0.0.2", None) == ("127.0.0.2", 9001)
    assert api_bind(settings, None, 9002) == ("127.0.0.2", 9002)
    assert api_bind(settings, "::1", 9003) == ("::1", 9003)


def test_the_consumer_asks_the_broker_for_short_fetch_waits() -> None:
    """A broker that holds an empty fetch for its whole wait (the embedded Tansu) adds that wait to every
    event's latency: the consumer passes JOURNEYS_FETCH_WAIT_MS as `fetch.wait.max.ms`."""
    from consumers.ingest import ConsumerConfig

    settings = Settings(JOURNEYS_FETCH_WAIT_MS=25)
    config = ConsumerConfig(bootstrap="b:9092", topic="t", dlq_topic="d", group_id="g",
                            fetch_wait_ms=settings.consumer_fetch_wait_ms)
    assert config.kafka_config()["fetch.wait.max.ms"] == 25
    assert Settings().consumer_fetch_wait_ms == 10
