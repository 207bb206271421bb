"""Channel adapter settings (webhook, SMTP, Kafka output), mixed into app.settings.Settings.

Invalid values fail when the settings load (pydantic names the variable); settings an adapter needs but that
are unset fail when the adapter is built at start-up (`require_*`, `AdapterSettingsError` names the variable).
This module imports nothing from `app.settings`, so the Settings class can inherit from it.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator

from app.errors import PermanentError

WEBHOOK_CHANNELS = ("email", "sms", "push", "webhook", "crm")
KAFKA_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
# A deliberately plain address check: one @, no spaces or header-breaking characters, a dotted or local domain.
EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
MIN_SECRET_LEN = 16


class AdapterSettingsError(PermanentError):
    """An adapter is used but a setting it needs is missing or invalid; `variable` names it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}", reason="adapter_config")
        self.variable = variable


def valid_email(address: str) -> bool:
    """True for a bare `local@domain` address (no display name, no CR/LF)."""
    return bool(EMAIL_RE.match(address)) and len(address) <= 254


def _http_url(value: str | None, variable: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not re.match(r"^https?://[^\s/?#]+", value):
        raise ValueError(f"{variable} must be an http:// or https:// URL")
    return value


class ChannelAdapterSettings(BaseModel):
    """Settings of the channel adapters in app/channels/adapters (a mixin of app.settings.Settings)."""

    # webhook: JSON over HTTP, signed (app/channels/adapters/webhook.py)
    webhook_url: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL",
                                    description="default endpoint of the webhook adapter")
    webhook_url_email: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL_EMAIL")
    webhook_url_sms: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL_SMS")
    webhook_url_push: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL_PUSH")
    webhook_url_webhook: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL_WEBHOOK")
    webhook_url_crm: str | None = Field(default=None, alias="JOURNEYS_WEBHOOK_URL_CRM")
    webhook_secret: SecretStr | None = Field(default=None, alias="JOURNEYS_WEBHOOK_SECRET",
                                             description="HMAC-SHA256 key of X-Journeys-Signature")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=300, alias="JOURNEYS_WEBHOOK_TIMEOUT_S")
    webhook_max_connections: int = Field(default=20, ge=1, le=1000, alias="JOURNEYS_WEBHOOK_MAX_CONNECTIONS")

    # smtp: email (app/channels/adapters/smtp.py)
    smtp_host: str = Field(default="localhost", min_length=1, alias="JOURNEYS_SMTP_HOST")
    smtp_port: int | None = Field(default=None, ge=1, le=65535, alias="JOURNEYS_SMTP_PORT",
                                  description="unset: 587 (starttls), 465 (ssl), 25 (none)")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(default="starttls", alias="JOURNEYS_SMTP_SECURITY")
    smtp_username: str | None = Field(default=None, alias="JOURNEYS_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="JOURNEYS_SMTP_PASSWORD")
    smtp_from: str = Field(default="journeys@localhost", alias="JOURNEYS_SMTP_FROM",
                           description="From header: `addr@domain` or `Name <addr@domain>`")
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=300, alias="JOURNEYS_SMTP_TIMEOUT_S")
    smtp_verify_tls: bool = Field(default=True, alias="JOURNEYS_SMTP_VERIFY_TLS")

    # kafka: an output topic for downstream execution systems (app/channels/adapters/kafka_out.py)
    kafka_out_topic: str = Field(default="journeys.deliveries", alias="JOURNEYS_KAFKA_OUT_TOPIC")
    kafka_out_bootstrap: str | None = Field(default=None, alias="JOURNEYS_KAFKA_OUT_BOOTSTRAP",
                                            description="unset: KAFKA_BOOTSTRAP (the events broker)")
    kafka_out_partitions: int = Field(default=6, ge=1, le=1000, alias="JOURNEYS_KAFKA_OUT_PARTITIONS")
    kafka_out_create_topic: bool = Field(default=True, alias="JOURNEYS_KAFKA_OUT_CREATE_TOPIC")
    kafka_out_timeout_s: float = Field(default=15.0, gt=0, le=300, alias="JOURNEYS_KAFKA_OUT_TIMEOUT_S")

    @field_validator("webhook_url", "webhook_url_email", "webhook_url_sms", "webhook_url_push",
                     "webhook_url_webhook", "webhook_url_crm")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.field_name or "webhook_url"
        return _http_url(value, "JOURNEYS_" + name.upper())

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LEN:
            raise ValueError(f"JOURNEYS_WEBHOOK_SECRET must be at least {MIN_SECRET_LEN} characters")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_from(cls, value: str) -> str:
        if "\r" in value or "\n" in value or not valid_email(parseaddr(value)[1]):
            raise ValueError("JOURNEYS_SMTP_FROM must be `addr@domain` or `Name <addr@domain>`")
        return value

    @field_validator("kafka_out_topic")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        if not KAFKA_TOPIC_RE.match(value) or value in {".", ".."}:
            raise ValueError("JOURNEYS_KAFKA_OUT_TOPIC must be 1-249 of [A-Za-z0-9._-]")
        return value

    @model_validator(mode="after")
    def _check_smtp_auth(self) -> ChannelAdapterSettings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("JOURNEYS_SMTP_USERNAME and JOURNEYS_SMTP_PASSWORD go together (set both or neither)")
        if self.smtp_username is not None and self.smtp_security == "none" and self.smtp_host not in {
                "localhost", "127.0.0.1", "::1"}:
            raise ValueError("JOURNEYS_SMTP_SECURITY=none would send JOURNEYS_SMTP_PASSWORD in clear to "
                             f"{self.smtp_host}: use starttls or ssl")
        return self

    # -- what an adapter needs, checked when it is built -------------------------------------------
    def webhook_url_for(self, channel: str) -> str | None:
        """The endpoint for `channel`: JOURNEYS_WEBHOOK_URL_<CHANNEL>, else JOURNEYS_WEBHOOK_URL."""
        specific: str | None = getattr(self, f"webhook_url_{channel}", None) if channel in WEBHOOK_CHANNELS else None
        return specific or self.webhook_url

    def require_webhook(self, channels: list[str]) -> tuple[SecretStr, dict[str, str]]:
        """The secret and each channel's URL; AdapterSettingsError names the first missing variable."""
        if self.webhook_secret is None:
            raise AdapterSettingsError("JOURNEYS_WEBHOOK_SECRET", "the webhook adapter signs every request: set "
                                       f"a secret of at least {MIN_SECRET_LEN} characters")
        urls: dict[str, str] = {}
        for channel in channels:
            url = self.webhook_url_for(channel)
            if url is None:
                variable = (f"JOURNEYS_WEBHOOK_URL_{channel.upper()}" if channel in WEBHOOK_CHANNELS
                            else "JOURNEYS_WEBHOOK_URL")
                raise AdapterSettingsError(variable, f"channel {channel!r} is mapped to the webhook adapter but "
                                           "has no URL (set it, or JOURNEYS_WEBHOOK_URL for every channel)")
            urls[channel] = url
        return self.webhook_secret, urls

    @property
    def smtp_effective_port(self) -> int:
        """JOURNEYS_SMTP_PORT, else the usual port of the security mode."""
        return self.smtp_port or {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    def require_kafka_out(self, events_bootstrap: str | None) -> str:
        """The output broker: JOURNEYS_KAFKA_OUT_BOOTSTRAP, else the events broker."""
        bootstrap = self.kafka_out_bootstrap or events_bootstrap
        if not bootstrap:
            raise AdapterSettingsError("JOURNEYS_KAFKA_OUT_BOOTSTRAP", "the kafka adapter needs a broker: set it "
                                       "(or KAFKA_BOOTSTRAP, or start the embedded broker first)")
        return bootstrap
