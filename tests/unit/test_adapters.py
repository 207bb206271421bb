"""Channel adapters, pure logic: the signature scheme, status classification, message building, settings."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.channels.adapter import OutboundMessage
from app.channels.adapters import AdapterSettingsError, id_headers, make_adapter
from app.channels.adapters.in_app import InAppAdapter
from app.channels.adapters.kafka_out import record_for
from app.channels.adapters.smtp import EmailBuildError, build_email, classify_smtp_code, message_id
from app.channels.adapters.webhook import (
    WebhookAdapter,
    build_request,
    classify_status,
    parse_retry_after,
    signature_header,
    signature_problem,
    verify_signature,
)
from app.clock import FakeClock
from app.settings import Settings

SECRET = "whsec-test-0123456789"
NOW_S = 1_767_225_600


def outbound(channel: str = "sms", recipient: dict[str, Any] | None = None, **content: Any) -> OutboundMessage:
    payload = {"deliveryId": "dlv-1", "decisionId": "dec-1", "actionId": "act-1", "enrollmentId": "enr-1",
               "journeyId": "welcome", "version": 3, "stepId": "send_welcome", "variant": "B", "personId": "p-1",
               "channel": channel, "template": "welcome_email", "triggerMessageId": "m-1",
               "content": content or {"subject": "Hi Ada", "text": "Hello Ada", "html": "<p>Hello Ada</p>"},
               "data": {"k": "v"}}
    return OutboundMessage(delivery_id="dlv-1", idempotency_key="dlv-1", channel=channel, template="welcome_email",
                           payload=payload, recipient=recipient if recipient is not None else
                           {"personId": "p-1", "email": "ada@example.com", "phone": "+15550001"})


# -- signature ---------------------------------------------------------------------------------------
def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(SECRET.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, NOW_S, body) == f"t={NOW_S},v1={expected}"


def test_a_signature_verifies_within_the_tolerance_only() -> None:
    body = b'{"a":1}'
    header = signature_header(SECRET, NOW_S, body)
    assert verify_signature(SECRET, header, body, 300, NOW_S + 299)
    assert verify_signature(SECRET.encode(), header, body, 300, NOW_S - 299)  # bytes secret, clock skew
    assert not verify_signature(SECRET, header, body, 300, NOW_S + 301)
    assert "away from now" in (signature_problem(SECRET, header, body, 300, NOW_S - 301) or "")


@pytest.mark.parametrize(("header", "problem"), [
    (None, "missing"), ("", "missing"), ("v1=abc", "no timestamp"), ("t=abc,v1=abc", "not an integer"),
    (f"t={NOW_S}", "no v1"), (f"t={NOW_S},v1=00", "does not match"),
])
def test_malformed_or_wrong_signatures_are_refused(header: str | None, problem: str) -> None:
    assert problem in (signature_problem(SECRET, header, b"{}", 300, NOW_S) or "")
    assert not verify_signature(SECRET, header, b"{}", 300, NOW_S)


def test_a_tampered_body_or_another_secret_fails_and_rotation_entries_pass() -> None:
    body = b'{"a":1}'
    header = signature_header(SECRET, NOW_S, body)
    assert not verify_signature(SECRET, header, b'{"a":2}', 300, NOW_S)
    assert not verify_signature("another-secret-0123456", header, body, 300, NOW_S)
    old = signature_header("old-secret-0123456789", NOW_S, body).split(",")[1]
    assert verify_signature(SECRET, f"{header},{old},v0=ignored", body, 300, NOW_S)
    assert verify_signature("old-secret-0123456789", f"{header}, {old}", body, 300, NOW_S)


# -- HTTP status classification -------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "outcome"), [
    (200, "sent"), (201, "sent"), (202, "sent"), (204, "sent"), (408, "retryable"), (409, "retryable"),
    (425, "retryable"), (429, "retryable"), (500, "retryable"), (502, "retryable"), (503, "retryable"),
    (504, "retryable"), (400, "permanent"), (401, "permanent"), (403, "permanent"), (404, "permanent"),
    (410, "permanent"), (413, "permanent"), (422, "permanent"), (301, "permanent"), (302, "permanent"),
])
def test_status_classification(status: int, outcome: str) -> None:
    assert classify_status(status) == outcome


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("120", NOW_S) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", NOW_S) == 60.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", NOW_S + 10) == 0.0
    assert parse_retry_after("soon", NOW_S) is None
    assert parse_retry_after(None, NOW_S) is None


# -- webhook request ------------------------------------------------------------------------------------
def test_the_request_carries_the_payload_the_recipient_and_every_id() -> None:
    body, headers = build_request(outbound(), SECRET, NOW_S)
    assert verify_signature(SECRET, headers["X-Journeys-Signature"], body, 300, NOW_S)
    assert headers["Idempotency-Key"] == "dlv-1" and headers["Content-Type"] == "application/json"
    assert {headers[f"X-Journeys-{k}"] for k in ("Journey-Id", "Journey-Version", "Step-Id", "Decision-Id",
                                                  "Delivery-Id", "Variant")} == {
        "welcome", "3", "send_welcome", "dec-1", "dlv-1", "B"}
    data = json.loads(body)
    assert data["recipient"]["phone"] == "+15550001" and data["idempotencyKey"] == "dlv-1"
    assert (data["journeyId"], data["version"], data["stepId"], data["variant"]) == ("welcome", 3, "send_welcome", "B")


def test_id_headers_leave_out_nulls_and_encode_non_ascii() -> None:
    msg = outbound()
    payload = {**msg.payload, "variant": None, "stepId": "grüße\r\nX-Evil: 1"}
    headers = dict(id_headers(OutboundMessage("d", "d", "sms", "t", payload, {})))
    assert "X-Journeys-Variant" not in headers
    assert headers["X-Journeys-Step-Id"] == "gr%C3%BC%C3%9Fe%0D%0AX-Evil%3A%201"


def _mock_adapter(handler: Any) -> WebhookAdapter:
    return WebhookAdapter(secret=SECRET, urls={"sms": "http://sink.test/sms"}, default_url="http://sink.test/all",
                          clock=FakeClock(NOW_S * 1000), transport=httpx.MockTransport(handler))


def test_responses_map_to_outcomes_with_retry_after_and_provider_ids() -> None:
    replies = {
        "/sms": httpx.Response(503, headers={"Retry-After": "7"}, text="busy"),
        "/all": httpx.Response(202, json={"id": "prov-9"}),
    }
    adapter = _mock_adapter(lambda request: replies[request.url.path])
    busy = adapter.send(outbound("sms"))
    assert (busy.outcome, busy.status_code, busy.retry_after_s) == ("retryable", 503, 7.0)
    assert "busy" in busy.error
    ok = adapter.send(outbound("push"))
    assert (ok.outcome, ok.status_code, ok.provider_id) == ("sent", 202, "prov-9")


def test_a_4xx_is_permanent_without_retry_after_and_transport_errors_are_retryable() -> None:
    adapter = _mock_adapter(lambda request: httpx.Response(422, headers={"Retry-After": "5"}, text="bad phone"))
    result = adapter.send(outbound())
    assert (result.outcome, result.retry_after_s) == ("permanent", None) and "bad phone" in result.error

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert _mock_adapter(refuse).send(outbound()).outcome == "retryable"

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    timed_out = _mock_adapter(slow).send(outbound())
    assert timed_out.outcome == "retryable" and "timeout" in timed_out.error


def test_a_channel_without_url_is_permanent() -> None:
    adapter = WebhookAdapter(secret=SECRET, urls={}, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    result = adapter.send(outbound("crm"))
    assert result.outcome == "permanent" and "JOURNEYS_WEBHOOK_URL_CRM" in result.error


# -- email ----------------------------------------------------------------------------------------------
def _parsed(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_email_is_multipart_alternative_with_ids_and_a_stable_message_id() -> None:
    msg = _parsed(build_email(outbound("email"), "Journeys <news@example.org>", now_ms=NOW_S * 1000))
    assert msg.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content().strip() for p in msg.iter_parts()}  # type: ignore[attr-defined]
    assert parts == {"text/plain": "Hello Ada", "text/html": "<p>Hello Ada</p>"}
    assert (msg["Subject"], msg["To"], msg["Message-ID"]) == ("Hi Ada", "ada@example.com", "<dlv-1@example.org>")
    assert (msg["X-Journeys-Journey-Id"], msg["X-Journeys-Journey-Version"], msg["X-Journeys-Step-Id"],
            msg["X-Journeys-Decision-Id"], msg["X-Journeys-Delivery-Id"], msg["X-Journeys-Variant"]) == (
        "welcome", "3", "send_welcome", "dec-1", "dlv-1", "B")
    again = build_email(outbound("email"), "news@example.org", now_ms=NOW_S * 1000 + 60_000)
    assert again["Message-ID"] == msg["Message-ID"]


def test_single_part_emails_and_a_folded_subject() -> None:
    text_only = _parsed(build_email(outbound("email", subject="a\r\nBcc: x@y.z", text="just text"), "n@e.org",
                                    now_ms=0))
    assert text_only.get_content_type() == "text/plain" and text_only["Subject"] == "a Bcc: x@y.z"
    assert text_only["Bcc"] is None
    html_only = _parsed(build_email(outbound("email", html="<b>x</b>"), "n@e.org", now_ms=0))
    assert html_only.get_content_type() == "text/html"


@pytest.mark.parametrize(("recipient", "reason"), [
    ({"personId": "p"}, "no_address"), ({"email": ""}, "no_address"), ({"email": 42}, "no_address"),
    ({"email": "not-an-address"}, "invalid_address"), ({"email": "a@b.c\r\nBcc: x@y.z"}, "invalid_address"),
    ({"email": "Ada <ada@example.com>"}, "invalid_address"),
])
def test_a_missing_or_invalid_address_is_a_build_error(recipient: dict[str, Any], reason: str) -> None:
    with pytest.raises(EmailBuildError) as caught:
        build_email(outbound("email", recipient=recipient), "n@e.org", now_ms=0)
    assert caught.value.reason == reason and not caught.value.retryable


def test_no_body_is_a_build_error_and_smtp_codes_classify() -> None:
    with pytest.raises(EmailBuildError):
        build_email(outbound("email", subject="only a subject"), "n@e.org", now_ms=0)
    assert [classify_smtp_code(c) for c in (421, 450, 451, 452, 500, 550, 552, 554)] == [
        "retryable"] * 4 + ["permanent"] * 4
    assert message_id("a b<c>@d", "x.org") == "<abcd@x.org>"


# -- Kafka record ---------------------------------------------------------------------------------------
def test_the_kafka_record_is_keyed_by_person_with_id_headers() -> None:
    record = record_for(outbound("crm"), "out")
    headers = dict(record.headers)
    assert (record.topic, record.key) == ("out", "p-1")
    assert json.loads(record.value)["stepId"] == "send_welcome" and "recipient" not in json.loads(record.value)
    assert headers["idempotency-key"] == "dlv-1" and headers["x-journeys-journey-version"] == "3"
    assert headers["x-journeys-variant"] == "B" and headers["x-journeys-decision-id"] == "dec-1"


# -- settings and the factory ---------------------------------------------------------------------------
def test_webhook_needs_a_secret_and_a_url_for_every_mapped_channel() -> None:
    mapping = {"sms": "webhook", "crm": "webhook", "email": "log"}
    with pytest.raises(AdapterSettingsError) as no_secret:
        make_adapter("webhook", Settings(JOURNEYS_CHANNEL_ADAPTERS=mapping))
    assert no_secret.value.variable == "JOURNEYS_WEBHOOK_SECRET"
    with pytest.raises(AdapterSettingsError) as no_url:
        make_adapter("webhook", Settings(JOURNEYS_CHANNEL_ADAPTERS=mapping, JOURNEYS_WEBHOOK_SECRET=SECRET,
                                         JOURNEYS_WEBHOOK_URL_SMS="http://sms.test/"))
    assert no_url.value.variable == "JOURNEYS_WEBHOOK_URL_CRM"
    adapter = make_adapter("webhook", Settings(JOURNEYS_CHANNEL_ADAPTERS=mapping, JOURNEYS_WEBHOOK_SECRET=SECRET,
                                               JOURNEYS_WEBHOOK_URL_SMS="http://sms.test/",
                                               JOURNEYS_WEBHOOK_URL="https://all.test/hook"))
    assert isinstance(adapter, WebhookAdapter)
    assert (adapter.url_for("sms"), adapter.url_for("crm")) == ("http://sms.test/", "https://all.test/hook")
    adapter.close()


@pytest.mark.parametrize(("env", "variable"), [
    ({"JOURNEYS_WEBHOOK_SECRET": "short"}, "JOURNEYS_WEBHOOK_SECRET"),
    ({"JOURNEYS_WEBHOOK_URL_SMS": "ftp://x"}, "JOURNEYS_WEBHOOK_URL_SMS"),
    ({"JOURNEYS_WEBHOOK_TIMEOUT_S": "0"}, "JOURNEYS_WEBHOOK_TIMEOUT_S"),
    ({"JOURNEYS_SMTP_PORT": "70000"}, "JOURNEYS_SMTP_PORT"),
    ({"JOURNEYS_SMTP_SECURITY": "tls"}, "JOURNEYS_SMTP_SECURITY"),
    ({"JOURNEYS_SMTP_FROM": "nobody"}, "JOURNEYS_SMTP_FROM"),
    ({"JOURNEYS_SMTP_USERNAME": "u"}, "JOURNEYS_SMTP_PASSWORD"),
    ({"JOURNEYS_SMTP_USERNAME": "u", "JOURNEYS_SMTP_PASSWORD": "p", "JOURNEYS_SMTP_SECURITY": "none",
      "JOURNEYS_SMTP_HOST": "mail.example.com"}, "JOURNEYS_SMTP_SECURITY=none"),
    ({"JOURNEYS_KAFKA_OUT_TOPIC": "bad topic"}, "JOURNEYS_KAFKA_OUT_TOPIC"),
])
def test_invalid_values_fail_at_load_naming_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                        variable: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert variable in str(caught.value)


def test_smtp_port_follows_the_security_mode_and_kafka_needs_a_broker() -> None:
    assert [Settings(JOURNEYS_SMTP_SECURITY=s).smtp_effective_port for s in ("starttls", "ssl", "none")] == [
        587, 465, 25]
    assert Settings(JOURNEYS_SMTP_PORT=2525).smtp_effective_port == 2525
    with pytest.raises(AdapterSettingsError) as caught:
        make_adapter("kafka", Settings(kafka_bootstrap=None))
    assert caught.value.variable == "JOURNEYS_KAFKA_OUT_BOOTSTRAP"


def test_unknown_adapters_fail_and_in_app_holds() -> None:
    with pytest.raises(AdapterSettingsError) as caught:
        make_adapter("carrier-pigeon", Settings())
    assert caught.value.variable == "JOURNEYS_CHANNEL_ADAPTERS"
    adapter = make_adapter("in_app", Settings())
    assert isinstance(adapter, InAppAdapter)
    result = adapter.send(outbound("in_app"))
    assert result.outcome == "held" and "next-action" in result.error
    assert make_adapter("log", Settings()).send(outbound("sms")).outcome == "sent"
