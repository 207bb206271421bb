"""The resolver's rules (pure; no I/O): which candidates of one person at one moment are sent, and why not.

Every candidate (an action step's request, or an offer of a placement) is checked in this order; the first
rule that blocks it gives its outcome and the constraint that blocked it:

1. suppression  (`suppressed`)  the person is on a suppression list for the channel or for every channel.
                                Nothing bypasses it, transactional messages included.
2. consent      (`no_consent`)  an explicit opt-out of the channel blocks everything; a marketing-only
                                opt-out (e.g. the `unsubscribed` trait) and, on a channel that
                                `requires_opt_in`, anything but `opted_in` block marketing messages.
3. global control (`holdout`)   people in the global control group get no marketing messages.
4. quiet hours  (`deferred`)    marketing due inside the channel's quiet hours, in the person's zone, waits
                                until they end (DST-correct): `defer_until_ms`.
5. caps         (`capped`)      every cap whose scope (channel, journey, tag, or all) matches: at most `max`
                                chosen messages in the rolling window `(at - window, at]` or, with
                                `calendar`, since local midnight `window` days back. Messages chosen at a
                                later time (a late event decided after them) count too. Offers also have
                                their own caps. Marketing only.
6. exclusion    (`excluded`)    another journey of the same exclusion group messaged the person within the
                                group's window.
7. arbitration  (`lost_arbitration`) one message per channel (or placement) per moment: candidates are
                                ranked by journey priority, step priority, score (all descending), then id.
Otherwise `chosen`. Transactional messages pass 3-7.

Candidates are decided in rank order, and each chosen one is added to the person's history at once, so
what was chosen earlier in the same transaction (the same batch, the same moment) counts against caps and
exclusion groups. An action with fallback channels tries its options in order (the person's
`preferred_channel` trait first); the first option that rules 1-2 let through is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from app.journeys.engine import bucket
from graph_models.constraints import ConstraintSet, FrequencyCap, OfferCap, QuietHours

CHOSEN = "chosen"
BLOCKED_OUTCOMES = ("suppressed", "no_consent", "holdout", "capped", "excluded", "lost_arbitration")


@dataclass(frozen=True)
class ChannelOption:
    channel: str
    template: str


@dataclass(frozen=True)
class Candidate:
    """One thing that could be sent or shown to the person now."""

    candidate_id: str
    person_id: str
    at_ms: int
    options: tuple[ChannelOption, ...]
    journey_id: str | None = None
    step_priority: int = 0
    score: float = 0.0
    tags: tuple[str, ...] = ()
    transactional: bool = False
    placement: str | None = None
    offer_id: str | None = None
    offer_priority: int | None = None
    offer_caps: tuple[OfferCap, ...] = ()


@dataclass(frozen=True)
class Sent:
    """A message chosen for the person earlier (from the graph, or earlier in this transaction)."""

    at_ms: int
    channel: str
    journey_id: str | None = None
    tags: tuple[str, ...] = ()
    offer_id: str | None = None


@dataclass(frozen=True)
class Consent:
    status: str  # opted_in | opted_out
    marketing_only: bool = False


@dataclass
class PersonState:
    """What the rules need to know about one person, locked and read in the deciding transaction."""

    person_id: str
    traits: Mapping[str, Any]
    zone: ZoneInfo
    consent: dict[str, Consent] = field(default_factory=dict)
    suppressed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # listId -> channels ([] = all)
    history: list[Sent] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    candidate_id: str
    outcome: str
    reason: str
    rank: int
    channel: str
    template: str
    blocked_by: str | None = None  # constraintId, e.g. 'cap:email-daily'
    defer_until_ms: int | None = None

    @property
    def chosen(self) -> bool:
        return self.outcome == CHOSEN


def in_control_group(person_id: str, constraints: ConstraintSet) -> bool:
    """Deterministic: the same person and salt always give the same answer."""
    gc = constraints.global_control
    return gc is not None and gc.percent > 0 and bucket(gc.salt, person_id) < gc.percent / 100


def _hm(text: str) -> dt.time:
    hour, minute = (int(x) for x in text.split(":"))
    return dt.time(hour, minute)


def quiet_until(at_ms: int, zone: ZoneInfo, quiet: QuietHours) -> int | None:
    """The instant quiet hours end if `at_ms` falls inside them (in `zone`), else None. Windows may cross
    midnight; the end is a local wall time, so a DST change in between is accounted for."""
    local = dt.datetime.fromtimestamp(at_ms / 1000, zone)
    start, end, now = _hm(quiet.start), _hm(quiet.end), local.time().replace(tzinfo=None)
    if start < end:
        inside, end_date = start <= now < end, local.date()
    else:
        inside = now >= start or now < end
        end_date = local.date() + dt.timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    end_local = dt.datetime.combine(end_date, end, tzinfo=zone)
    return max(int(end_local.timestamp() * 1000), at_ms + 1)


def window_start_ms(at_ms: int, window_ms: int, calendar: bool, zone: ZoneInfo) -> int:
    """Messages at or after this instant count. Rolling: `(at - window, at]`; calendar: from local midnight
    of the first day of a window of whole days ending today."""
    if not calendar:
        return at_ms - window_ms + 1
    days = max(1, -(-window_ms // 86_400_000))
    local = dt.datetime.fromtimestamp(at_ms / 1000, zone)
    first = local.date() - dt.timedelta(days=days - 1)
    return int(dt.datetime.combine(first, dt.time(0), tzinfo=zone).timestamp() * 1000)


def _cap_matches(cap: FrequencyCap, sent_channel: str, journey: str | None, tags: Sequence[str]) -> bool:
    s = cap.scope
    return ((s.channel is None or s.channel == sent_channel) and (s.journey is None or s.journey == journey)
            and (s.tag is None or s.tag in tags))


def rank_key(c: Candidate, constraints: ConstraintSet) -> tuple[float, float, float, str]:
    priority = c.offer_priority if c.offer_priority is not None else (
        constraints.priority(c.journey_id) if c.journey_id else constraints.default_priority)
    return (-priority, -c.step_priority, -c.score, c.candidate_id)


class _Rules:
    """The rules for one person at one moment under one constraint set."""

    def __init__(self, constraints: ConstraintSet, state: PersonState) -> None:
        self.cs = constraints
        self.state = state

    def reachability(self, c: Candidate, option: ChannelOption) -> tuple[str, str, str] | None:
        """Rules 1-2 for one channel: (outcome, constraintId, reason) when blocked."""
        ch = option.channel
        for list_id, channels in sorted(self.state.suppressed.items()):
            if not channels or ch in channels:
                where = f"on {ch}" if channels else "on every channel"
                return ("suppressed", f"suppression:{list_id}",
                        f"the person is on the suppression list {list_id} ({where})")
        consent = self.state.consent.get(ch)
        if consent is not None and consent.status == "opted_out":
            if not consent.marketing_only:
                return "no_consent", f"consent:{ch}", f"the person opted out of {ch}"
            if not c.transactional:
                return "no_consent", f"consent:{ch}", f"the person opted out of marketing on {ch}"
        if (not c.transactional and self.cs.channel(ch).requires_opt_in
                and (consent is None or consent.status != "opted_in")):
            return "no_consent", f"consent:{ch}", f"{ch} needs an opt-in for marketing and the person has not opted in"
        return None

    def pick_option(self, c: Candidate) -> tuple[ChannelOption, tuple[str, str, str] | None]:
        preferred = self.state.traits.get("preferred_channel")
        options = sorted(c.options, key=lambda o: 0 if o.channel == preferred else 1)
        first_block: tuple[str, str, str] | None = None
        for option in options:
            block = self.reachability(c, option)
            if block is None:
                return option, None
            first_block = first_block or block
        return options[0], first_block

    def pressure(self, c: Candidate, channel: str) -> tuple[str, str, str, int | None] | None:
        """Rules 3-6 (marketing only): (outcome, constraintId, reason, deferUntil) when blocked."""
        if c.transactional:
            return None
        st = self.state
        if in_control_group(st.person_id, self.cs):
            pct = self.cs.global_control.percent if self.cs.global_control else 0
            return "holdout", "global_control", f"the person is in the global control group ({pct:g}%)", None
        quiet = self.cs.channel(channel).quiet_hours
        if quiet is not None:
            until = quiet_until(c.at_ms, st.zone, quiet)
            if until is not None:
                local = dt.datetime.fromtimestamp(until / 1000, st.zone).strftime("%Y-%m-%d %H:%M %Z")
                return ("deferred", f"quiet_hours:{channel}",
                        f"quiet hours on {channel} ({quiet.start}-{quiet.end} in {st.zone.key}); deferred to {local}",
                        until)
        for cap in self.cs.caps:
            if not _cap_matches(cap, channel, c.journey_id, c.tags):
                continue
            since = window_start_ms(c.at_ms, cap.window.ms, cap.calendar, st.zone)
            used = sum(1 for s in st.history if since <= s.at_ms
                       and _cap_matches(cap, s.channel, s.journey_id, s.tags))
            if used >= cap.max:
                kind = "calendar" if cap.calendar else "rolling"
                return ("capped", f"cap:{cap.id}",
                        f"the cap {cap.id} ({cap.max} per {cap.window.text} {kind}{_scope_text(cap)}) is reached: "
                        f"{used} already sent", None)
        for oc in c.offer_caps:
            since = c.at_ms - oc.window.ms + 1
            used = sum(1 for s in st.history if s.offer_id == c.offer_id and since <= s.at_ms)
            if used >= oc.max:
                return ("capped", f"offer_cap:{c.offer_id}:{oc.id}",
                        f"the offer cap {oc.id} ({oc.max} per {oc.window.text}) is reached: {used} already shown",
                        None)
        if c.journey_id is not None:
            for group in self.cs.exclusion_groups:
                if c.journey_id not in group.journeys:
                    continue
                since = c.at_ms - group.window.ms + 1
                other = next((s for s in st.history if s.journey_id in group.journeys
                              and s.journey_id != c.journey_id and since <= s.at_ms), None)
                if other is not None:
                    return ("excluded", f"exclusion:{group.id}",
                            f"{other.journey_id} already messaged the person within {group.window.text} "
                            f"(exclusion group {group.id})", None)
        return None


def _scope_text(cap: FrequencyCap) -> str:
    s = cap.scope
    parts = [f"on {s.channel}" if s.channel else "", f"in {s.journey}" if s.journey else "",
             f"tagged {s.tag}" if s.tag else ""]
    text = " ".join(p for p in parts if p)
    return f" {text}" if text else " on all channels"


def decide(candidates: Sequence[Candidate], state: PersonState, constraints: ConstraintSet) -> list[Verdict]:
    """Decide one person's candidates at one moment (see the module docstring); appends the chosen ones to
    `state.history`. Verdicts come back in rank order."""
    rules = _Rules(constraints, state)
    ranked = sorted(candidates, key=lambda c: rank_key(c, constraints))
    taken: dict[str, str] = {}  # channel or placement -> winning candidate id
    out: list[Verdict] = []
    for rank, c in enumerate(ranked, start=1):
        option, block = rules.pick_option(c)
        defer: int | None = None
        if block is None:
            pressure = rules.pressure(c, option.channel)
            if pressure is not None:
                block, defer = pressure[:3], pressure[3]
        slot = c.placement or option.channel
        if block is None and slot in taken:
            block = ("lost_arbitration", "arbitration",
                     f"{taken[slot]} ranked higher for {'placement' if c.placement else 'channel'} {slot}")
        if block is None:
            taken[slot] = c.candidate_id
            state.history.append(Sent(c.at_ms, option.channel, c.journey_id, c.tags, c.offer_id))
            via = "" if option == c.options[0] else f" (fallback from {c.options[0].channel})"
            out.append(Verdict(c.candidate_id, CHOSEN, f"sent on {option.channel}{via}", rank, option.channel,
                               option.template))
        else:
            outcome, constraint_id, reason = block
            out.append(Verdict(c.candidate_id, outcome, reason, rank, option.channel, option.template,
                               constraint_id, defer))
    return out


def history_since_ms(at_ms: int, constraints: ConstraintSet, offer_windows: Sequence[int] = ()) -> int:
    """The earliest message time any rule can look at for a decision at `at_ms` (what to read)."""
    windows = [c.window.ms + (86_400_000 if c.calendar else 0) for c in constraints.caps]
    windows += [g.window.ms for g in constraints.exclusion_groups]
    windows += list(offer_windows)
    return at_ms - max(windows, default=0) - 86_400_000
