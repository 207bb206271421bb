"""Settings from the environment (pydantic-settings); invalid values fail at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.channels.adapters.settings import ChannelAdapterSettings
from graph_models.principal import ApiKey, parse_api_keys

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """Per-user data of the embedded servers: `$XDG_DATA_HOME/journeys`, else `~/.local/share/journeys`."""
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "share") / "journeys"


class Settings(ChannelAdapterSettings, BaseSettings):
    """Everything the service reads from its environment (channel adapter settings: the mixin)."""


    neo4j_uri: str | None = Field(default=None, description="Bolt URI; unset means start the embedded server")
    neo4j_user: str = "neo4j"
    neo4j_password: str = "journeys-dev-password"
    neo4j_database: str = "neo4j"
    graph_retry_initial_ms: float = Field(
        default=5.0, gt=0, le=5000, alias="JOURNEYS_GRAPH_RETRY_INITIAL_MS",
        description="first back-off of a managed transaction that hit a transient conflict (then doubling, "
                    "jittered, up to 10 s in all); the driver's own default is 1 s")

    kafka_bootstrap: str | None = Field(default=None, description="host:port; unset means start embedded broker")
    events_topic: str = Field(default="segment.events", alias="JOURNEYS_EVENTS_TOPIC")
    dlq_topic: str = Field(default="segment.events.dlq", alias="JOURNEYS_DLQ_TOPIC")
    topic_partitions: int = Field(default=6, ge=1, alias="JOURNEYS_TOPIC_PARTITIONS")
    consumer_group: str = Field(default="journeys-ingest", alias="JOURNEYS_CONSUMER_GROUP")
    consumer_batch_size: int = Field(default=1000, ge=1, le=50_000, alias="JOURNEYS_BATCH_SIZE")
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1000, alias="JOURNEYS_SESSION_TIMEOUT_MS")
    consumer_heartbeat_ms: int = Field(default=1_000, ge=100, alias="JOURNEYS_HEARTBEAT_MS")
    consumer_fetch_wait_ms: int = Field(
        default=10, ge=0, le=5_000, alias="JOURNEYS_FETCH_WAIT_MS",
        description="longest the broker may hold a fetch with no new data (`fetch.wait.max.ms`); brokers that do "
                    "not answer a waiting fetch when data arrives (the embedded Tansu) add up to this to every "
                    "event's latency")

    write_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["dev-write-key"], alias="JOURNEYS_WRITE_KEYS"
    )
    api_keys: Annotated[list[ApiKey], NoDecode] = Field(
        default_factory=lambda: parse_api_keys("admin:admin:dev-admin-key"), alias="JOURNEYS_API_KEYS",
        description="comma-separated name:role:key entries for the journey API (Bearer keys)",
    )
    session_gap_minutes: float = Field(default=30.0, gt=0, alias="JOURNEYS_SESSION_GAP_MINUTES")

    load_samples: bool = Field(default=True, alias="JOURNEYS_LOAD_SAMPLES",
                               description="`journeys up` publishes the example journeys")
    timer_interval_s: float = Field(default=1.0, gt=0, alias="JOURNEYS_TIMER_INTERVAL_S")
    watermark_lateness_ms: int = Field(
        default=2000, ge=0, alias="JOURNEYS_WATERMARK_LATENESS_MS",
        description="timers fire only up to the consumer's event-time watermark minus this much")
    watermark_max_hold_s: float | None = Field(
        default=None, gt=0, alias="JOURNEYS_WATERMARK_MAX_HOLD_S",
        description="fire timers at most this far behind the clock even if the watermark is older; unset: hold")
    engine_failure_pause_after: int = Field(
        default=5, ge=0, alias="JOURNEYS_ENGINE_FAILURE_PAUSE_AFTER",
        description="open engine failures (events a journey version failed on) that pause the version; 0: never")

    data_dir: Path = Field(default_factory=default_data_dir, alias="JOURNEYS_DATA_DIR",
                           description="data and logs of the embedded graph server and broker")
    api_host: str = Field(default="127.0.0.1", alias="JOURNEYS_API_HOST")
    api_port: int = Field(default=8088, ge=1, le=65535, alias="JOURNEYS_API_PORT")
    bolt_port: int = Field(default=7687, ge=1, le=65535, alias="JOURNEYS_BOLT_PORT")
    kafka_port: int = Field(default=9092, ge=1, le=65535, alias="JOURNEYS_KAFKA_PORT")
    arcadedb_http_port: int = Field(default=2480, ge=1, le=65535, alias="JOURNEYS_ARCADEDB_HTTP_PORT")

    # Delivery outbox dispatcher (issue 7, app/channels/dispatcher.py).
    channel_adapters: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {c: "log" for c in ("email", "sms", "push", "webhook", "crm")} | {"in_app": "in_app"},
        alias="JOURNEYS_CHANNEL_ADAPTERS",
        description="channel:adapter pairs (log, webhook, smtp, kafka, in_app); default: every channel to log")
    dispatch_interval_s: float = Field(default=0.5, gt=0, alias="JOURNEYS_DISPATCH_INTERVAL_S")
    dispatch_batch_size: int = Field(default=100, ge=1, le=5000, alias="JOURNEYS_DISPATCH_BATCH_SIZE")
    dispatch_workers: int = Field(default=8, ge=1, le=256, alias="JOURNEYS_DISPATCH_WORKERS",
                                  description="concurrent sends per dispatcher")
    dispatch_lease_s: float = Field(default=60.0, gt=0, alias="JOURNEYS_DISPATCH_LEASE_S",
                                    description="a claimed delivery is re-sent after this if never recorded")
    dispatch_max_attempts: int = Field(default=8, ge=1, le=100, alias="JOURNEYS_DISPATCH_MAX_ATTEMPTS")
    dispatch_backoff_base_s: float = Field(default=2.0, gt=0, alias="JOURNEYS_DISPATCH_BACKOFF_BASE_S")
    dispatch_backoff_max_s: float = Field(default=3600.0, gt=0, alias="JOURNEYS_DISPATCH_BACKOFF_MAX_S")
    dispatch_lookback_min: int = Field(
        default=15, ge=11, le=1440, alias="JOURNEYS_DISPATCH_LOOKBACK_MIN",
        description="the dispatcher's cursor trails the clock by this many minutes (late writes move it back)")
    dispatch_pause_recheck_s: float = Field(
        default=5.0, gt=0, alias="JOURNEYS_DISPATCH_PAUSE_RECHECK_S",
        description="deliveries held by a kill switch are looked at again after this long")
    rate_limits: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict, alias="JOURNEYS_RATE_LIMITS",
        description="token buckets: channel:email=10/s,channel:email=300/m,adapter:webhook=50/s")

    # Measurement (issue 7, app/measurement/).
    measurement_topic: str = Field(default="journeys.measurements", alias="JOURNEYS_MEASUREMENT_TOPIC",
                                   description="Kafka topic of the measurement stream (schema journeys.measurement/v1)")
    measurement_relay: bool = Field(default=True, alias="JOURNEYS_MEASUREMENT_RELAY",
                                    description="`journeys up` runs the measurement relay (outbox -> Kafka)")
    measurement_relay_interval_s: float = Field(default=1.0, gt=0, alias="JOURNEYS_MEASUREMENT_RELAY_INTERVAL_S")
    measurement_lease_s: float = Field(default=30.0, gt=0, alias="JOURNEYS_MEASUREMENT_LEASE_S",
                                       description="a claimed outbox batch is published again after this if "
                                                   "never deleted")
    callbacks_secret: str | None = Field(default=None, alias="JOURNEYS_CALLBACKS_SECRET",
                                         description="HMAC secret of signed delivery callbacks "
                                                     "(X-Journeys-Signature); unset: Bearer API keys only")
    metrics_consumer_lag: bool = Field(default=False, alias="JOURNEYS_METRICS_CONSUMER_LAG",
                                       description="export consumer lag from broker high watermarks (only where "
                                                   "they are true; the embedded Tansu's are not)")
    log_format: str = Field(default="text", pattern="^(text|json)$", alias="JOURNEYS_LOG_FORMAT",
                            description="`json`: one JSON object per log line with messageId/decision/delivery ids")

    # hide_input_in_errors: a bad JOURNEYS_API_KEYS / NEO4J_PASSWORD must not be echoed into logs.
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", hide_input_in_errors=True)

    @field_validator("write_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_api_keys(value, "JOURNEYS_API_KEYS")
        return value

    @field_validator("channel_adapters", mode="before")
    @classmethod
    def _parse_channel_adapters(cls, value: object) -> object:
        if isinstance(value, str):
            pairs: dict[str, str] = {}
            for item in (x.strip() for x in value.split(",") if x.strip()):
                channel, sep, adapter = item.partition(":")
                if not sep or not channel.strip() or not adapter.strip():
                    raise ValueError(f"JOURNEYS_CHANNEL_ADAPTERS: {item!r} is not channel:adapter")
                pairs[channel.strip()] = adapter.strip()
            return pairs
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, value: object) -> object:
        if isinstance(value, str):
            from app.channels.ratelimit import parse_rate_limits
            return parse_rate_limits(value)
        return value

    @property
    def session_gap_ms(self) -> int:
        return int(self.session_gap_minutes * 60_000)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
