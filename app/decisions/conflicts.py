"""Conflicts of a journey version with the live journeys, shown when it is reviewed (pure; no I/O).

Kinds, each naming the live journey it is about:
- `shared_trigger`  both enter on the same event (`entry.event`).
- `shared_people`   people who entered the live journey in the last N days also did this version's entry event
                    in that window (the count comes from the graph: `overlap`).
- `shared_channel`  both send on the same channel (any action step, fallbacks included).
- `shared_cap`      a frequency cap of the live constraints counts messages of both (same channel, a shared
                    tag, or all channels).
- `exclusion_group` both are in one exclusion group: only one may message a person within its window.
Publishing a version with conflicts is allowed; an approver can require the publisher to acknowledge them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graph_models.constraints import ConstraintSet, FrequencyCap
from graph_models.journey import ActionStep, JourneyDefinition


@dataclass(frozen=True)
class Conflict:
    kind: str
    journey: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "journey": self.journey, "detail": self.detail}


def _channels(definition: JourneyDefinition) -> set[str]:
    out: set[str] = set()
    for step in definition.steps:
        if isinstance(step, ActionStep):
            out.add(step.channel)
            out.update(f.channel for f in step.fallback)
    return out


def _tags(definition: JourneyDefinition) -> set[str]:
    return {t for step in definition.steps if isinstance(step, ActionStep) for t in step.tags}


def _counts_for(cap: FrequencyCap, journey_id: str, channels: set[str], tags: set[str]) -> bool:
    s = cap.scope
    return ((s.channel is None or s.channel in channels) and (s.journey is None or s.journey == journey_id)
            and (s.tag is None or s.tag in tags))


def find_conflicts(candidate: JourneyDefinition, live: Sequence[JourneyDefinition], constraints: ConstraintSet,
                   overlap: Mapping[str, int] | None = None, days: int = 30) -> list[Conflict]:
    """Every conflict of `candidate` with each live journey other than itself, in a stable order."""
    out: list[Conflict] = []
    mine_channels, mine_tags = _channels(candidate), _tags(candidate)
    for other in sorted(live, key=lambda d: d.id):
        if other.id == candidate.id:
            continue
        if candidate.entry.event is not None and candidate.entry.event == other.entry.event:
            out.append(Conflict("shared_trigger", other.id, f"both enter on {candidate.entry.event!r}"))
        shared_people = (overlap or {}).get(other.id, 0)
        if shared_people:
            out.append(Conflict("shared_people", other.id, f"{shared_people} people who entered {other.id} in the "
                                f"last {days} days also did {candidate.entry.event!r}"))
        theirs_channels, theirs_tags = _channels(other), _tags(other)
        for channel in sorted(mine_channels & theirs_channels):
            out.append(Conflict("shared_channel", other.id, f"both send on {channel}"))
        for cap in constraints.caps:
            if (_counts_for(cap, candidate.id, mine_channels, mine_tags)
                    and _counts_for(cap, other.id, theirs_channels, theirs_tags)):
                out.append(Conflict("shared_cap", other.id, f"the cap {cap.id} ({cap.max} per {cap.window.text}) "
                                    "counts messages of both"))
        for group in constraints.exclusion_groups:
            if candidate.id in group.journeys and other.id in group.journeys:
                out.append(Conflict("exclusion_group", other.id, f"exclusion group {group.id}: only one may "
                                    f"message a person within {group.window.text}"))
    return out
