"""`GET /v1/journeys/{id}/results`: entries, messages, conversions, rates and lift per goal, variant and step
(app/measurement/results.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.api.body import api_error
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.measurement.results import ResultsStore
from graph_models.principal import Principal

router = APIRouter(prefix="/v1/journeys", tags=["results"])
TIME_HELP = "epoch milliseconds or an ISO-8601 date/time (UTC unless it has an offset)"


def parse_time(value: str | None, name: str) -> int | None:
    """Epoch ms from '1767225600000', '2026-01-01' or '2026-01-01T12:00:00Z'; 400 naming the parameter."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise api_error(400, f"{name} must be {TIME_HELP}", field=name) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


@router.get("/{journey_id}/results", responses=responses(400, 401, 403, 404, 503))
def journey_results(journey_id: str, services: ServicesDep,
                    _principal: Annotated[Principal, Depends(allowed("read"))],
                    from_: Annotated[str | None, Query(alias="from", description=f"entered at or after: {TIME_HELP}")
                                     ] = None,
                    to: Annotated[str | None, Query(description=f"entered before: {TIME_HELP}")] = None,
                    ) -> dict[str, Any]:
    """Per goal: entries, messages, conversions and rate overall, per variant (with lift over the split's
    holdout), per action step, and lift over the global control group, with 95% intervals."""
    lo, hi = parse_time(from_, "from"), parse_time(to, "to")
    if lo is not None and hi is not None and hi <= lo:
        raise api_error(400, "to must be after from", field="to")
    return ResultsStore(services.driver, services.settings.neo4j_database).results(journey_id, lo, hi)
