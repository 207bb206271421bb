"""The resolver's configuration as pydantic models (pure; no I/O).

Two versioned documents, reviewed like journeys:
- `ConstraintSet` (kind `constraints`): channels, consent mapping, suppression lists, frequency caps, quiet
  hours, journey priorities, exclusion groups and the global control group.
- `PlacementSet` (kind `placements`): onsite placements and the offers each may show.
The defaults of `ConstraintSet()` are what applies before any version is published.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from graph_models.journey import CHANNELS, Condition, Duration

ConsentStatus = Literal["opted_in", "opted_out"]
ConfigKind = Literal["constraints", "placements"]
CONFIG_KINDS: tuple[ConfigKind, ...] = ("constraints", "placements")
ConfigId = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _config_id(value: str) -> str:
    if not ConfigId.match(value):
        raise ValueError(f"{value!r} is not an id like 'email-daily' (lowercase letters, digits, '-', '_')")
    return value


def _channel(value: str) -> str:
    if value not in CHANNELS:
        raise ValueError(f"unknown channel {value!r}; channels are {', '.join(CHANNELS)}")
    return value


ConfigIdText = Annotated[str, AfterValidator(_config_id)]
ChannelText = Annotated[str, AfterValidator(_channel)]
def _positive_window(value: Duration) -> Duration:
    return value.positive("window")


Window = Annotated[Duration, AfterValidator(_positive_window)]


class QuietHours(_Strict):
    """Local times (24h, in the person's zone) between which marketing on a channel waits; may cross midnight."""

    start: str = Field(pattern=_TIME)
    end: str = Field(pattern=_TIME)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")
        return self


class ChannelConfig(_Strict):
    id: ChannelText
    requires_opt_in: bool = Field(default=False, description="marketing needs an explicit opt-in (e.g. SMS)")
    quiet_hours: QuietHours | None = None


class CapScope(_Strict):
    """What a cap counts: one channel, one journey, one tag, or (all unset) every message."""

    channel: str | None = None
    journey: str | None = None
    tag: str | None = None

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return _channel(value) if value is not None else None


class FrequencyCap(_Strict):
    """At most `max` chosen messages in `window` (rolling, or calendar days in the person's zone)."""

    id: ConfigIdText
    max: int = Field(ge=0)
    window: Window
    scope: CapScope = Field(default_factory=CapScope)
    calendar: bool = Field(default=False, description="count whole calendar days in the person's time zone")



class ExclusionGroup(_Strict):
    """Journeys of which only one may message a person within `window`."""

    id: ConfigIdText
    journeys: list[str] = Field(min_length=2)
    window: Window



class GlobalControl(_Strict):
    """A stable share of people who get no marketing messages (deterministic by person id and salt)."""

    percent: float = Field(ge=0, le=100)
    salt: str = Field(min_length=1)


class SuppressionListConfig(_Strict):
    id: ConfigIdText
    channels: list[str] = Field(default_factory=list, description="[] blocks every channel")
    description: str = ""

    @field_validator("channels")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return [_channel(c) for c in value]


class TraitConsentRule(_Strict):
    """How an identify trait maps to consent on a channel: its value true or false sets a status."""

    channel: str
    on_true: ConsentStatus | None = None
    on_false: ConsentStatus | None = None
    marketing_only: bool = Field(default=False, description="an opt-out that still lets transactional messages by")

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str) -> str:
        return _channel(value)


def _default_trait_rules() -> dict[str, TraitConsentRule]:
    return {
        "unsubscribed": TraitConsentRule(channel="email", on_true="opted_out", marketing_only=True),
        "email_opt_in": TraitConsentRule(channel="email", on_true="opted_in", on_false="opted_out"),
        "sms_opt_in": TraitConsentRule(channel="sms", on_true="opted_in", on_false="opted_out"),
        "push_opt_in": TraitConsentRule(channel="push", on_true="opted_in", on_false="opted_out"),
    }


class ConsentMapping(_Strict):
    """Where consent comes from: identify traits, and subscribe/unsubscribe track events (property `channel`
    or `channels`; no channel named means every channel)."""

    traits: dict[str, TraitConsentRule] = Field(default_factory=_default_trait_rules)
    subscribe_event: str = "Subscribed"
    unsubscribe_event: str = "Unsubscribed"


def _default_channels() -> list[ChannelConfig]:
    return [ChannelConfig(id=c, requires_opt_in=(c == "sms")) for c in CHANNELS]


class ConstraintSet(_Strict):
    """The constraints document (kind `constraints`)."""

    id: ConfigIdText = "default"
    description: str = ""
    default_timezone: str = "UTC"
    channels: list[ChannelConfig] = Field(default_factory=_default_channels)
    consent: ConsentMapping = Field(default_factory=ConsentMapping)
    suppression_lists: list[SuppressionListConfig] = Field(default_factory=list)
    caps: list[FrequencyCap] = Field(default_factory=list)
    exclusion_groups: list[ExclusionGroup] = Field(default_factory=list)
    priorities: dict[str, int] = Field(default_factory=dict, description="journey id -> priority (default 50)")
    default_priority: int = 50
    global_control: GlobalControl | None = None
    in_app_ttl: Duration = Field(default_factory=lambda: Duration.model_validate("7d"),
                                 description="how long a chosen in-app message waits for pickup")

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _unique(self) -> ConstraintSet:
        for what, ids in (("channel", [c.id for c in self.channels]), ("cap", [c.id for c in self.caps]),
                          ("exclusion group", [g.id for g in self.exclusion_groups]),
                          ("suppression list", [s.id for s in self.suppression_lists])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} id {dupes[0]!r}")
        return self

    def channel(self, channel_id: str) -> ChannelConfig:
        for c in self.channels:
            if c.id == channel_id:
                return c
        return ChannelConfig(id=channel_id)

    def priority(self, journey_id: str) -> int:
        return self.priorities.get(journey_id, self.default_priority)


class OfferCap(_Strict):
    """A cap on one offer: shown (chosen) at most `max` times in `window` per person."""

    id: ConfigIdText
    max: int = Field(ge=0)
    window: Window


class Offer(_Strict):
    """Something a placement may show: eligible when `when` holds (the journeys' condition language)."""

    id: ConfigIdText
    template: str
    when: Condition | None = None
    priority: int = Field(default=50, ge=0, le=100)
    score: float = 0.0
    tags: list[str] = Field(default_factory=list)
    caps: list[OfferCap] = Field(default_factory=list)


class Placement(_Strict):
    id: ConfigIdText
    channel: str = "in_app"
    description: str = ""
    offers: list[Offer] = Field(default_factory=list)

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str) -> str:
        return _channel(value)


class PlacementSet(_Strict):
    """The placements document (kind `placements`)."""

    id: ConfigIdText = "default"
    description: str = ""
    placements: list[Placement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PlacementSet:
        ids = [p.id for p in self.placements]
        offers = [o.id for p in self.placements for o in p.offers]
        for what, values in (("placement", ids), ("offer", offers)):
            dupes = sorted({i for i in values if values.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} id {dupes[0]!r}")
        return self

    def placement(self, placement_id: str) -> Placement | None:
        return next((p for p in self.placements if p.id == placement_id), None)


ConfigModel = ConstraintSet | PlacementSet
CONFIG_MODELS: dict[ConfigKind, type[ConstraintSet] | type[PlacementSet]] = {
    "constraints": ConstraintSet, "placements": PlacementSet,
}
