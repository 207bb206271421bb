"""Channel adapters behind app.channels.adapter.Adapter: webhook (signed JSON over HTTP), smtp (email),
kafka (an output topic) and in_app (held in the graph for /v1/next-action).

`make_adapter(name, settings)` builds one adapter from the settings, validating what it needs (fails fast
with the variable named). Adapter modules are imported on demand, so `app.settings` can import
`app.channels.adapters.settings` without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.channels.adapters.settings import AdapterSettingsError

if TYPE_CHECKING:
    from app.channels.adapter import Adapter, OutboundMessage
    from app.clock import Clock
    from app.settings import Settings

ADAPTER_NAMES = ("webhook", "smtp", "kafka", "in_app")

# The ids every message carries, as (payload key, header suffix): HTTP and email headers are
# `X-Journeys-<suffix>`, Kafka headers the lower-case form (`x-journeys-delivery-id`).
ID_FIELDS = (
    ("deliveryId", "Delivery-Id"), ("decisionId", "Decision-Id"), ("journeyId", "Journey-Id"),
    ("version", "Journey-Version"), ("stepId", "Step-Id"), ("variant", "Variant"), ("actionId", "Action-Id"),
    ("enrollmentId", "Enrollment-Id"), ("personId", "Person-Id"), ("channel", "Channel"),
    ("template", "Template"), ("triggerMessageId", "Trigger-Message-Id"),
)


def _header_value(value: Any) -> str:
    """Printable ASCII without CR/LF (header-safe); anything else percent-encoded."""
    text = str(value)
    if text.isascii() and text.isprintable():
        return text
    from urllib.parse import quote
    return quote(text, safe="")


def id_headers(message: OutboundMessage) -> list[tuple[str, str]]:
    """`X-Journeys-*` headers with the message's ids (ids that are null are left out)."""
    ids: dict[str, Any] = dict(message.payload)
    ids.setdefault("deliveryId", message.delivery_id)
    ids.setdefault("channel", message.channel)
    ids.setdefault("template", message.template)
    return [(f"X-Journeys-{suffix}", _header_value(ids[key])) for key, suffix in ID_FIELDS
            if ids.get(key) is not None]


def channels_for(name: str, channel_adapters: Mapping[str, str]) -> list[str]:
    """The channels the mapping sends through adapter `name`."""
    return sorted(ch for ch, adapter in channel_adapters.items() if adapter == name)


def make_adapter(name: str, settings: Settings, *, clock: Clock | None = None) -> Adapter:
    """The adapter `name` (one of ADAPTER_NAMES) configured from `settings`; raises AdapterSettingsError
    (a PermanentError naming the variable) when a setting it needs is missing or invalid."""
    channels = channels_for(name, settings.channel_adapters)
    if name == "webhook":
        from app.channels.adapters.webhook import WebhookAdapter
        return WebhookAdapter.from_settings(settings, channels, clock=clock)
    if name == "smtp":
        from app.channels.adapters.smtp import SmtpAdapter
        return SmtpAdapter.from_settings(settings, clock=clock)
    if name == "kafka":
        from app.channels.adapters.kafka_out import KafkaOutAdapter
        return KafkaOutAdapter.from_settings(settings)
    if name == "in_app":
        from app.channels.adapters.in_app import InAppAdapter
        return InAppAdapter()
    if name == "log":  # the dispatcher's built-in stand-in (app/channels/adapters/log.py)
        from app.channels.adapters.log import LogAdapter
        return LogAdapter()
    raise AdapterSettingsError("JOURNEYS_CHANNEL_ADAPTERS", f"unknown adapter {name!r} (known: "
                               f"{', '.join((*ADAPTER_NAMES, 'log'))})")


__all__ = ["ADAPTER_NAMES", "ID_FIELDS", "AdapterSettingsError", "channels_for", "id_headers", "make_adapter"]
