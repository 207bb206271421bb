"""The what-if report: Markdown tables (draft against live) and a small hand-written SVG bar chart of
messages by channel, entries and conversions (no plotting dependency)."""

from __future__ import annotations

from html import escape

from app.clock import to_iso
from graph_models.simulation import Outcomes, SimulationResult

SIM_COLOUR = "#4e79a7"
LIVE_COLOUR = "#f28e2b"


def _bars(result: SimulationResult) -> list[tuple[str, int, int]]:
    """(label, simulated, live) for the chart: entries, messages per channel, conversions per goal."""
    sim, live = result.simulated, result.live
    rows = [("entries", sim.entries, live.entries)]
    for channel in sorted(set(sim.messages) | set(live.messages)):
        rows.append((f"msg {channel}", sim.messages.get(channel, 0), live.messages.get(channel, 0)))
    for goal in sorted(set(sim.conversions) | set(live.conversions)):
        rows.append((f"conv {goal}", sim.conversions.get(goal, 0), live.conversions.get(goal, 0)))
    return rows


def bar_chart_svg(result: SimulationResult, width: int = 640, bar_height: int = 14) -> str:
    """A horizontal grouped bar chart: per row the draft (blue) and the live version (orange)."""
    rows = _bars(result)
    label_w, pad, top = 130, 8, 34
    top_value = max([1, *(max(s, v) for _, s, v in rows)])
    scale = (width - label_w - 60) / top_value
    group_h = 2 * bar_height + pad
    height = top + len(rows) * group_h + pad
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<title>{escape(result.journeyId)}: draft vs live</title>',
           '<rect x="0" y="0" width="100%" height="100%" fill="white"/>',
           f'<rect x="{label_w}" y="8" width="10" height="10" fill="{SIM_COLOUR}"/>',
           f'<text x="{label_w + 14}" y="17">draft (replayed)</text>',
           f'<rect x="{label_w + 130}" y="8" width="10" height="10" fill="{LIVE_COLOUR}"/>',
           f'<text x="{label_w + 144}" y="17">live</text>']
    for i, (label, sim, live) in enumerate(rows):
        y = top + i * group_h
        out.append(f'<text x="{label_w - 6}" y="{y + bar_height + 4}" text-anchor="end">{escape(label)}</text>')
        for j, (value, colour) in enumerate(((sim, SIM_COLOUR), (live, LIVE_COLOUR))):
            by = y + j * bar_height
            w = max(0.0, value * scale)
            out.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_height - 2}" fill="{colour}"/>')
            out.append(f'<text x="{label_w + w + 4:.1f}" y="{by + bar_height - 4}">{value}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _count_rows(title: str, sim: dict[str, int], live: dict[str, int]) -> list[str]:
    return [f"| {title} {key} | {sim.get(key, 0)} | {live.get(key, 0)} |" for key in sorted(set(sim) | set(live))]


def _table(sim: Outcomes, live: Outcomes) -> list[str]:
    lines = ["| | draft (replayed) | live |", "|---|---:|---:|",
             f"| entries | {sim.entries} | {live.entries} |",
             f"| messages | {sim.message_total} | {live.message_total} |"]
    lines += _count_rows("messages", sim.messages, live.messages)
    lines += _count_rows("cap hit", sim.capsHit, live.capsHit)
    lines += _count_rows("blocked", sim.blocked, live.blocked)
    lines += _count_rows("exit", sim.exits, live.exits)
    lines += [f"| completed | {sim.completed} | {live.completed} |",
              f"| in flight at the end | {sim.inFlight} | {live.inFlight} |"]
    lines += _count_rows("conversions", sim.conversions, live.conversions)
    return lines


def markdown(result: SimulationResult, chart: str | None = None) -> str:
    """The report; `chart` is the SVG's path or URL to link (None: no image)."""
    live = f"v{result.liveVersion}" if result.liveVersion is not None else "none published"
    lines = [f"# What-if replay: {result.journeyId}", "",
             f"- window: {to_iso(result.fromMs)} to {to_iso(result.toMs)} (end excluded)",
             f"- draft checksum: `{result.draftChecksum[:16]}`; live version: {live}",
             f"- constraints: `{result.constraintVersion}`; competing live journeys: "
             f"{', '.join(result.competing) or 'none'}",
             f"- replayed {result.events} events of {result.people} people; {result.timersFired} timers fired",
             f"- conversions from: {result.conversionBasis}",
             f"- result hash: `{result.resultHash}`", ""]
    if chart is not None:
        lines += [f"![draft vs live]({chart})", ""]
    lines += _table(result.simulated, result.live)
    if result.competingSimulated:
        lines += ["", "## Live journeys in the replay", "", "| journey | entries | messages | caps hit | blocked |",
                  "|---|---:|---:|---:|---:|"]
        for key, o in sorted(result.competingSimulated.items()):
            lines.append(f"| {key} | {o.entries} | {o.message_total} | {sum(o.capsHit.values())} | "
                         f"{sum(o.blocked.values())} |")
    lines += ["", "Replayed in memory against the live constraints and person state; nothing was written.", ""]
    return "\n".join(lines)
