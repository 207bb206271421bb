"""`GET /metrics`: Prometheus exposition (app/metrics.py). Unauthenticated, like most exporters: bind the API
to a private address or filter /metrics at the proxy if the numbers are sensitive."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.api.responses import responses
from app.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **responses(503)})
async def metrics(services: ServicesDep) -> Response:
    """Consumer throughput and batch latency, decision latency, deliveries by channel and status, dead letters,
    pending timers, the measurement backlog (and consumer lag when JOURNEYS_METRICS_CONSUMER_LAG is on)."""
    s = services.settings
    lag = {"bootstrap": services.bootstrap, "group": s.consumer_group, "topic": s.events_topic} \
        if s.metrics_consumer_lag else None
    body = await run_in_threadpool(render, services.driver, s.neo4j_database, services.clock.now_ms(), lag)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
