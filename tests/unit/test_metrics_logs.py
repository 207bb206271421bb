"""The Prometheus exposition and the JSON log formatter."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.logs import JsonFormatter, log_context
from app.metrics import DECISION_SECONDS, count_deliveries, observe_batch, render


def _samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_exposition_counts_batches_deliveries_and_decisions() -> None:
    before = _samples()
    observe_batch(10, 0.2, 1)
    count_deliveries([{"deliveryId": "d1", "channel": "email"}, {"deliveryId": "d2", "channel": "sms"},
                      {"deliveryId": "lost", "channel": "sms"}], {"d1": "sent", "d2": "dead"})

    @DECISION_SECONDS.time()
    def decide() -> None:
        return None

    decide()
    after = _samples()

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("journeys_consumer_events_total") == 10
    assert delta("journeys_consumer_batches_total") == 1
    assert delta("journeys_dead_letters_total") == 1
    assert delta("journeys_consumer_batch_seconds_count") == 1
    assert delta("journeys_consumer_batch_seconds_sum") == pytest.approx(0.2)  # a sum of floats
    assert delta("journeys_deliveries_total", channel="email", status="sent") == 1
    assert delta("journeys_deliveries_total", channel="sms", status="dead") == 1
    assert delta("journeys_decision_seconds_count") == 1
    text = render().decode()
    assert "# TYPE journeys_decision_seconds histogram" in text
    assert "journeys_timers_pending" not in text  # graph gauges only with a driver


def test_json_formatter_carries_ids_from_extra_and_context() -> None:
    fmt = JsonFormatter()
    logger = logging.getLogger("journeys.test")
    record = logger.makeRecord("journeys.test", logging.INFO, __file__, 1, "sent %s", ("x",), None,
                               extra={"deliveryId": "dl-1"})
    with log_context(messageId="m-1", decisionId="dc-1"), log_context(personId="p-1"):
        line = json.loads(fmt.format(record))
    assert line["message"] == "sent x" and line["level"] == "INFO" and line["logger"] == "journeys.test"
    assert (line["messageId"], line["decisionId"], line["deliveryId"], line["personId"]) == ("m-1", "dc-1", "dl-1",
                                                                                          "p-1")
    assert line["time"].endswith("Z")
    outside = json.loads(fmt.format(record))
    assert "messageId" not in outside and outside["deliveryId"] == "dl-1"
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        failed = logger.makeRecord("journeys.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(fmt.format(failed))["exception"]
