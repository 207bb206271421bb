"""Channel -> adapter registry built from settings (`JOURNEYS_CHANNEL_ADAPTERS`), validated at start-up."""

from __future__ import annotations

import importlib
from typing import Any

from app.channels.adapter import Adapter, OutboundMessage, SendResult
from app.clock import Clock
from app.errors import PermanentError
from app.settings import Settings

# `log` is built here; every other name is built by the adapters package
# (app/channels/adapters/__init__.py: make_adapter(name, settings) -> Adapter, owned by the adapters helper).


class AdapterConfigError(PermanentError):
    """A channel maps to an unknown adapter, or an adapter's settings are invalid."""


def _make(name: str, settings: Settings, clock: Clock | None) -> Adapter:
    if name == "log":
        from app.channels.adapters.log import LogAdapter
        return LogAdapter()
    try:
        module: Any = importlib.import_module("app.channels.adapters")
        make_adapter = module.make_adapter
    except (ImportError, AttributeError) as exc:
        if name == "in_app":  # held in the graph, never sent: the dispatcher needs no real adapter
            return _HeldInApp()
        raise AdapterConfigError(f"adapter {name!r} is not available: {exc}", reason="adapter_config") from exc
    try:
        adapter: Adapter = make_adapter(name, settings, clock=clock)
    except AdapterConfigError:
        raise
    except (ValueError, KeyError, TypeError, PermanentError) as exc:
        raise AdapterConfigError(f"adapter {name!r}: {exc}", reason="adapter_config") from exc
    return adapter


class _HeldInApp:
    """Stand-in for the in_app adapter: in-app deliveries are held for /v1/next-action, never sent."""

    name = "in_app"

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult("permanent", error="in_app deliveries are picked up by /v1/next-action")

    def close(self) -> None:
        return None


def build_adapters(settings: Settings, clock: Clock | None = None) -> dict[str, Adapter]:
    """One adapter per channel (adapters shared between channels mapped to the same name); fails fast."""
    by_name: dict[str, Adapter] = {}
    out: dict[str, Adapter] = {}
    for channel, name in sorted(settings.channel_adapters.items()):
        if name not in by_name:
            by_name[name] = _make(name, settings, clock)
        out[channel] = by_name[name]
    return out


def close_adapters(adapters: dict[str, Adapter]) -> None:
    """Close every distinct adapter once."""
    seen: set[int] = set()
    for adapter in adapters.values():
        if id(adapter) not in seen:
            seen.add(id(adapter))
            adapter.close()


__all__ = ["AdapterConfigError", "build_adapters", "close_adapters"]
