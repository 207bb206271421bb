"""What-if replay results (pure models): what a draft journey version would have done over a window of
recorded events, next to what the live version of the same journey did. `resultHash` is the sha256 of the
canonical JSON of everything else, so two replays of the same events compare by hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field


class Outcomes(BaseModel):
    """One journey's numbers over the window."""

    entries: int = 0
    messages: dict[str, int] = Field(default_factory=dict, description="chosen messages by channel")
    capsHit: dict[str, int] = Field(default_factory=dict, description="requests capped, by cap id")
    blocked: dict[str, int] = Field(default_factory=dict,
                                    description="other outcomes than chosen and capped (deferred included), "
                                                "by outcome")
    exits: dict[str, int] = Field(default_factory=dict, description="enrollments that left, by exit reason")
    completed: int = 0
    inFlight: int = Field(default=0, description="enrollments still active at the end of the window")
    conversions: dict[str, int] = Field(default_factory=dict,
                                        description="by goal id (or goal-event exit criterion)")

    @property
    def message_total(self) -> int:
        return sum(self.messages.values())


class SimulationResult(BaseModel):
    """A replay's report (see the module docstring)."""

    journeyId: str
    draftChecksum: str = Field(description="sha256 of the draft's canonical JSON")
    fromMs: int
    toMs: int
    constraintVersion: str
    liveVersion: int | None = Field(description="the live (published) version of the journey, if any")
    competing: list[str] = Field(description="live journey versions replayed alongside the draft")
    people: int = Field(description="people with events in the window")
    events: int = Field(description="events replayed")
    timersFired: int
    conversionBasis: str = Field(description="'goals' or 'exit criteria' (goal events that end the journey)")
    simulated: Outcomes
    live: Outcomes
    competingSimulated: dict[str, Outcomes] = Field(default_factory=dict,
                                                    description="the live journeys' outcomes in the replay")
    resultHash: str = ""

    def canonical_json(self) -> str:
        """Everything but `resultHash`, keys sorted, no spaces."""
        data: dict[str, Any] = self.model_dump(exclude={"resultHash"})
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def sealed(self) -> SimulationResult:
        """A copy with `resultHash` set."""
        digest = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
        return self.model_copy(update={"resultHash": digest})
