"""The configuration reference, generated from the settings model (app/settings.py).

`journeys settings reference --write` rewrites docs/configuration.md (every setting: variable, default,
meaning, the commands that read it) and the table in README.md's "Settings (environment)" section between
the two markers below; tests/unit/test_settings_reference.py fails when either drifts from the model.

A setting's meaning is its `Field(description=...)`, else MEANINGS here; its commands are
`Field(json_schema_extra={"commands": [...]})`, else the first COMMAND_RULES prefix its field name matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from app.settings import REPO_ROOT, Settings

REGENERATE = "journeys settings reference --write"
REFERENCE_PATH = REPO_ROOT / "docs" / "configuration.md"
README_PATH = REPO_ROOT / "README.md"
BEGIN = "<!-- settings-table:begin (generated: journeys settings reference --write) -->"
END = "<!-- settings-table:end -->"

GRAPH_COMMANDS = ("up", "serve", "consume", "schema apply", "journey", "config", "people")
DELIVERY = ("up", "dispatch")
# (field-name prefix, commands); the first match wins, so longer prefixes come first.
COMMAND_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("neo4j_", GRAPH_COMMANDS),
    ("graph_", GRAPH_COMMANDS),
    ("kafka_out_", DELIVERY),
    ("kafka_bootstrap", ("up", "serve", "consume")),
    ("events_topic", ("up", "serve", "consume")),
    ("dlq_topic", ("up", "consume")),
    ("topic_partitions", ("up", "consume")),
    ("consumer_", ("up", "consume")),
    ("write_keys", ("up", "serve")),
    ("api_keys", ("up", "serve")),
    ("api_", ("up", "serve")),
    ("session_gap", ("up", "consume")),
    ("load_samples", ("up",)),
    ("timer_", ("up", "consume")),
    ("watermark_", ("up", "consume")),
    ("engine_", ("up", "consume")),
    ("data_dir", ("up",)),
    ("bolt_port", ("up",)),
    ("kafka_port", ("up",)),
    ("arcadedb_", ("up",)),
    ("channel_adapters", DELIVERY),
    ("dispatch_", DELIVERY),
    ("rate_limits", DELIVERY),
    ("webhook_", DELIVERY),
    ("smtp_", DELIVERY),
    ("measurement_", ("up",)),
    ("callbacks_", ("up", "serve")),
    ("metrics_", ("up", "serve", "consume")),
    ("log_", ("every command",)),
)

MEANINGS: dict[str, str] = {
    "neo4j_user": "graph user",
    "neo4j_password": "graph password",
    "neo4j_database": "graph database",
    "events_topic": "Kafka topic of the Segment events (keyed by person)",
    "dlq_topic": "dead-letter topic for messages that can never be stored",
    "topic_partitions": "partitions of the events topic when it is created (the most consumers that share work)",
    "consumer_group": "Kafka consumer group of the ingest consumers (one group: partitions are shared)",
    "consumer_batch_size": "messages per ingest batch (one graph transaction)",
    "consumer_session_timeout_ms": "Kafka consumer session timeout",
    "consumer_heartbeat_ms": "Kafka consumer heartbeat interval",
    "consumer_fetch_wait_ms": "longest the broker may hold a consumer's fetch with no new data (`fetch.wait.max.ms`)",
    "write_keys": "comma-separated Segment write keys the API accepts",
    "session_gap_minutes": "inactivity that starts a new session",
    "timer_interval_s": "how often due journey timers are fired",
    "api_host": "API bind address",
    "api_port": "API port",
    "bolt_port": "Bolt port of the embedded graph server",
    "kafka_port": "port of the embedded broker",
    "arcadedb_http_port": "HTTP port of the embedded graph server",
    "dispatch_interval_s": "how often the dispatcher looks for due deliveries",
    "dispatch_batch_size": "deliveries claimed per dispatcher round",
    "dispatch_max_attempts": "send attempts before a delivery fails for good",
    "dispatch_backoff_base_s": "first retry delay (doubles per attempt)",
    "dispatch_backoff_max_s": "longest retry delay",
    "webhook_url_email": "webhook endpoint for email (else JOURNEYS_WEBHOOK_URL)",
    "webhook_url_sms": "webhook endpoint for sms (else JOURNEYS_WEBHOOK_URL)",
    "webhook_url_push": "webhook endpoint for push (else JOURNEYS_WEBHOOK_URL)",
    "webhook_url_webhook": "webhook endpoint for the webhook channel (else JOURNEYS_WEBHOOK_URL)",
    "webhook_url_crm": "webhook endpoint for crm (else JOURNEYS_WEBHOOK_URL)",
    "webhook_timeout_s": "webhook request timeout",
    "webhook_max_connections": "concurrent connections of the webhook adapter",
    "smtp_host": "SMTP server",
    "smtp_security": "`starttls`, `ssl` or `none`",
    "smtp_username": "SMTP user (unset: no login)",
    "smtp_password": "SMTP password",
    "smtp_timeout_s": "SMTP timeout",
    "smtp_verify_tls": "verify the SMTP server's certificate",
    "kafka_out_topic": "topic of the Kafka output adapter (keyed by person)",
    "kafka_out_partitions": "partitions of that topic when it is created",
    "kafka_out_create_topic": "create that topic at start-up",
    "kafka_out_timeout_s": "how long a Kafka output send waits for the broker's ack",
    "measurement_relay_interval_s": "how often the measurement relay publishes the outbox",
}

# Defaults that depend on the machine or need words.
DEFAULT_TEXT: dict[str, str] = {
    "neo4j_uri": "unset → embedded ArcadeDB on `JOURNEYS_BOLT_PORT`",
    "kafka_bootstrap": "unset → embedded Tansu on `JOURNEYS_KAFKA_PORT`",
    "data_dir": "`$XDG_DATA_HOME/journeys`, else `~/.local/share/journeys`",
}


def env_name(name: str, field: FieldInfo) -> str:
    """The environment variable a field is read from."""
    return (field.alias or name).upper()


def commands(name: str, field: FieldInfo) -> tuple[str, ...]:
    """The `journeys` commands that read this setting (empty: nobody said; the test fails)."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("commands"), list):
        return tuple(str(c) for c in extra["commands"])  # type: ignore[union-attr]
    for prefix, found in COMMAND_RULES:
        if name.startswith(prefix):
            return found
    return ()


def meaning(name: str, field: FieldInfo) -> str:
    """What the setting does (empty: nobody said; the test fails)."""
    return (field.description or MEANINGS.get(name, "")).replace("|", "\\|")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # ApiKey(name, role, key)
        return ":".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(_value(v) for v in value)
    return str(value)


def default(name: str, field: FieldInfo) -> str:
    """The default as documentation shows it."""
    if name in DEFAULT_TEXT:
        return DEFAULT_TEXT[name]
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    text = _value(value)
    return f"`{text}`" if text else "(empty)"


def rows() -> Iterable[tuple[str, str, str, str, tuple[str, ...]]]:
    """(field name, variable, default, meaning, commands) for every setting, in model order."""
    for name, field in Settings.model_fields.items():
        yield name, env_name(name, field), default(name, field), meaning(name, field), commands(name, field)


def readme_table() -> str:
    """The README's settings table (variable, default, meaning)."""
    lines = [BEGIN, "| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{var}` | {dflt} | {text} |" for _, var, dflt, text, _ in rows()]
    return "\n".join([*lines, END])


def reference() -> str:
    """docs/configuration.md."""
    lines = [
        "# Configuration reference",
        "",
        f"Generated from `app/settings.py` by `{REGENERATE}`; do not edit by hand.",
        "Every setting is an environment variable (a `.env` file is not read). Invalid values stop the process",
        "at start-up with the variable named. \"Commands\" are the `journeys` commands that read the setting.",
        "",
        "| variable | default | meaning | commands |",
        "| --- | --- | --- | --- |",
    ]
    for _, var, dflt, text, cmds in rows():
        lines.append(f"| `{var}` | {dflt} | {text} | {', '.join(f'`{c}`' for c in cmds)} |")
    return "\n".join(lines) + "\n"


def readme_with_table(readme: str) -> str:
    """README text with the generated table between the markers (ValueError if the markers are missing)."""
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"README.md has no {BEGIN!r} ... {END!r} block")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + readme_table() + tail


def write(root: Path = REPO_ROOT) -> list[Path]:
    """Rewrite docs/configuration.md and README.md's table; returns the files that changed."""
    changed = []
    targets = {root / "docs" / "configuration.md": reference()}
    readme = root / "README.md"
    targets[readme] = readme_with_table(readme.read_text(encoding="utf-8"))
    for path, text in targets.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
