"""Channel adapters against real servers: a local HTTP endpoint that checks the signature (and can fail N times),
a real SMTP server (aiosmtpd), and the real broker from the fixtures."""

from __future__ import annotations

import email
import json
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from app.channels.adapter import OutboundMessage
from app.channels.adapters import make_adapter
from app.channels.adapters.kafka_out import KafkaOutAdapter
from app.channels.adapters.smtp import SmtpAdapter
from app.channels.adapters.webhook import WebhookAdapter, verify_signature
from app.channels.registry import build_adapters, close_adapters
from app.settings import Settings
from tests.integration.support import read_topic

pytestmark = pytest.mark.integration
SECRET = "whsec-integration-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outbound(channel: str, person: str = "p-1", key: str | None = None, email_address: str | None = "ada@example.com"
             ) -> OutboundMessage:
    dlv = key or str(uuid.uuid4())
    payload = {"deliveryId": dlv, "decisionId": "dec-1", "actionId": "act-1", "enrollmentId": "enr-1",
               "journeyId": "welcome", "version": 2, "stepId": "hello", "variant": "control", "personId": person,
               "channel": channel, "template": "welcome_email", "triggerMessageId": "m-1",
               "content": {"subject": "Welcome, Ada", "text": "Hello Ada", "html": "<p>Hello <b>Ada</b></p>"},
               "data": {}}
    recipient: dict[str, Any] = {"personId": person, "phone": "+15550001"}
    if email_address is not None:
        recipient["email"] = email_address
    return OutboundMessage(delivery_id=dlv, idempotency_key=dlv, channel=channel, template="welcome_email",
                           payload=payload, recipient=recipient)


# -- a real HTTP endpoint ---------------------------------------------------------------------------------
@dataclass
class Sink:
    """Answers `fail_status` to the first `fail_first` requests of each idempotency key, then `status`;
    401 to a request whose signature does not verify. Records every request."""

    secret: str = SECRET
    fail_first: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    status: int = 200
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        verified = verify_signature(self.secret, headers.get("x-journeys-signature"), body, 300, time.time())
        with self.lock:
            key = headers.get("idempotency-key")
            seen = sum(1 for r in self.requests if r["headers"].get("idempotency-key") == key)
            self.requests.append({"path": path, "headers": headers, "body": body, "verified": verified})
        if not verified:
            return 401, {}
        if seen < self.fail_first:
            return self.fail_status, ({"Retry-After": self.retry_after} if self.retry_after else {})
        return self.status, {"X-Request-Id": f"req-{len(self.requests)}"}


@pytest.fixture
def sink() -> Iterator[tuple[Sink, str]]:
    state = Sink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if state.delay_s:
                time.sleep(state.delay_s)
            status, headers = state.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def webhook(base: str, **extra: Any) -> WebhookAdapter:
    settings = Settings(JOURNEYS_CHANNEL_ADAPTERS={"sms": "webhook", "crm": "webhook", "email": "smtp"},
                        JOURNEYS_WEBHOOK_SECRET=SECRET, JOURNEYS_WEBHOOK_URL=f"{base}/all",
                        JOURNEYS_WEBHOOK_URL_SMS=f"{base}/sms", **extra)
    adapter = make_adapter("webhook", settings)
    assert isinstance(adapter, WebhookAdapter)
    return adapter


def test_webhook_posts_signed_json_per_channel_url(sink: tuple[Sink, str]) -> None:
    state, base = sink
    adapter = webhook(base)
    try:
        sms, crm = adapter.send(outbound("sms")), adapter.send(outbound("crm"))
    finally:
        adapter.close()
    assert (sms.outcome, sms.status_code, sms.provider_id) == ("sent", 200, "req-1")
    assert crm.outcome == "sent"
    assert [r["path"] for r in state.requests] == ["/sms", "/all"]
    assert all(r["verified"] for r in state.requests)
    first = state.requests[0]
    body = json.loads(first["body"])
    assert (body["journeyId"], body["version"], body["stepId"], body["decisionId"], body["variant"]) == (
        "welcome", 2, "hello", "dec-1", "control")
    assert body["recipient"]["phone"] == "+15550001"
    h = first["headers"]
    assert h["idempotency-key"] == body["deliveryId"] == h["x-journeys-delivery-id"]
    assert (h["x-journeys-journey-id"], h["x-journeys-journey-version"], h["x-journeys-step-id"],
            h["x-journeys-decision-id"], h["x-journeys-variant"]) == ("welcome", "2", "hello", "dec-1", "control")


def test_an_endpoint_that_fails_twice_then_recovers(sink: tuple[Sink, str]) -> None:
    state, base = sink
    state.fail_first, state.fail_status, state.retry_after = 2, 503, "3"
    adapter = webhook(base)
    message = outbound("sms")
    try:
        results = [adapter.send(message) for _ in range(3)]
    finally:
        adapter.close()
    assert [(r.outcome, r.status_code, r.retry_after_s) for r in results] == [
        ("retryable", 503, 3.0), ("retryable", 503, 3.0), ("sent", 200, None)]
    keys = {r["headers"]["idempotency-key"] for r in state.requests}
    assert keys == {message.idempotency_key} and len({r["body"] for r in state.requests}) == 1


@pytest.mark.parametrize(("status", "outcome"), [(429, "retryable"), (409, "retryable"), (500, "retryable"),
                                                 (400, "permanent"), (404, "permanent")])
def test_endpoint_statuses_classify(sink: tuple[Sink, str], status: int, outcome: str) -> None:
    state, base = sink
    state.status = status
    adapter = webhook(base)
    try:
        result = adapter.send(outbound("crm"))
    finally:
        adapter.close()
    assert (result.outcome, result.status_code) == (outcome, status)


def test_a_wrong_secret_is_refused_by_the_receiver(sink: tuple[Sink, str]) -> None:
    state, base = sink
    state.secret = "another-secret-0123456789"
    adapter = webhook(base)
    try:
        result = adapter.send(outbound("sms"))
    finally:
        adapter.close()
    assert (result.outcome, result.status_code) == ("permanent", 401)
    assert state.requests[0]["verified"] is False


def test_timeouts_and_refused_connections_are_retryable(sink: tuple[Sink, str]) -> None:
    state, base = sink
    state.delay_s = 1.0
    slow = webhook(base, JOURNEYS_WEBHOOK_TIMEOUT_S=0.2)
    down = webhook(f"http://127.0.0.1:{free_port()}")
    try:
        timed_out, refused = slow.send(outbound("sms")), down.send(outbound("sms"))
    finally:
        slow.close()
        down.close()
    assert timed_out.outcome == "retryable" and "timeout" in timed_out.error
    assert refused.outcome == "retryable" and refused.status_code is None


# -- a real SMTP server -----------------------------------------------------------------------------------
class Mailbox:
    """aiosmtpd handler: refuses `busy@` (451) and `nobody@` (550) recipients, keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Any]] = []

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try again later"
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.messages.append((envelope, session.peer))
        return "250 2.0.0 queued"


def authenticate(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
                 ) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"journeys", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def smtp(port: int, **extra: Any) -> SmtpAdapter:
    values: dict[str, Any] = {"JOURNEYS_SMTP_HOST": "127.0.0.1", "JOURNEYS_SMTP_PORT": port,
                              "JOURNEYS_SMTP_SECURITY": "none", "JOURNEYS_SMTP_TIMEOUT_S": 5,
                              "JOURNEYS_SMTP_FROM": "Journeys <news@journeys.example>", **extra}
    settings = Settings(**values)
    adapter = make_adapter("smtp", settings)
    assert isinstance(adapter, SmtpAdapter)
    return adapter


def test_smtp_delivers_a_multipart_email_with_the_ids(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    adapter = smtp(port)
    message = outbound("email")
    try:
        results = [adapter.send(message), adapter.send(outbound("email")), adapter.send(outbound("email"))]
    finally:
        adapter.close()
    assert [r.outcome for r in results] == ["sent"] * 3
    assert results[0].provider_id == f"<{message.idempotency_key}@journeys.example>"
    envelope, _ = mailbox.messages[0]
    assert (envelope.mail_from, envelope.rcpt_tos) == ("news@journeys.example", ["ada@example.com"])
    assert isinstance(envelope.content, bytes)
    received = email.message_from_bytes(envelope.content, policy=default_policy)
    assert isinstance(received, EmailMessage)
    assert received.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content().strip() for p in received.iter_parts()}  # type: ignore[attr-defined]
    assert parts == {"text/plain": "Hello Ada", "text/html": "<p>Hello <b>Ada</b></p>"}
    assert (received["Subject"], received["To"], received["Message-ID"]) == (
        "Welcome, Ada", "ada@example.com", f"<{message.idempotency_key}@journeys.example>")
    assert (received["X-Journeys-Journey-Id"], received["X-Journeys-Journey-Version"], received["X-Journeys-Step-Id"],
            received["X-Journeys-Decision-Id"], received["X-Journeys-Delivery-Id"], received["X-Journeys-Variant"]
            ) == ("welcome", "2", "hello", "dec-1", message.delivery_id, "control")
    assert len({peer for _, peer in mailbox.messages}) == 1  # one pooled connection for the three sends


def test_smtp_4xx_is_retryable_5xx_permanent_and_the_next_send_still_works(smtp_server: tuple[Mailbox, int]
                                                                           ) -> None:
    mailbox, port = smtp_server
    adapter = smtp(port)
    try:
        busy = adapter.send(outbound("email", email_address="busy@example.com"))
        unknown = adapter.send(outbound("email", email_address="nobody@example.com"))
        missing = adapter.send(outbound("email", email_address=None))
        invalid = adapter.send(outbound("email", email_address="ada at example"))
        ok = adapter.send(outbound("email"))
    finally:
        adapter.close()
    assert (busy.outcome, busy.status_code) == ("retryable", 451) and "busy" in busy.error
    assert (unknown.outcome, unknown.status_code) == ("permanent", 550)
    assert missing.outcome == invalid.outcome == "permanent" and "email" in missing.error
    assert ok.outcome == "sent" and len(mailbox.messages) == 1


def test_smtp_auth_and_a_server_that_is_down(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    good = smtp(port, JOURNEYS_SMTP_USERNAME="journeys", JOURNEYS_SMTP_PASSWORD="s3cret")
    bad = smtp(port, JOURNEYS_SMTP_USERNAME="journeys", JOURNEYS_SMTP_PASSWORD="wrong")
    down = smtp(free_port())
    try:
        sent, refused, unreachable = (good.send(outbound("email")), bad.send(outbound("email")),
                                      down.send(outbound("email")))
    finally:
        for adapter in (good, bad, down):
            adapter.close()
    assert sent.outcome == "sent" and len(mailbox.messages) == 1
    assert (refused.outcome, refused.status_code) == ("permanent", 535), refused.error
    assert unreachable.outcome == "retryable" and "ConnectionRefused" in unreachable.error


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (openssl CLI)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_smtp_starttls_and_implicit_tls(tls_context: ssl.SSLContext) -> None:
    mailbox = Mailbox()
    starttls_port, ssl_port = free_port(), free_port()
    starttls = Controller(mailbox, hostname="127.0.0.1", port=starttls_port, tls_context=tls_context,
                          require_starttls=True)
    implicit = Controller(mailbox, hostname="127.0.0.1", port=ssl_port, ssl_context=tls_context)
    starttls.start()
    implicit.start()
    adapters = [smtp(starttls_port, JOURNEYS_SMTP_SECURITY="starttls", JOURNEYS_SMTP_VERIFY_TLS=False),
                smtp(ssl_port, JOURNEYS_SMTP_SECURITY="ssl", JOURNEYS_SMTP_VERIFY_TLS=False),
                smtp(starttls_port, JOURNEYS_SMTP_SECURITY="starttls"),  # verifies: self-signed is refused
                smtp(starttls_port)]  # JOURNEYS_SMTP_SECURITY=none against a server that requires STARTTLS
    try:
        results = [adapter.send(outbound("email")) for adapter in adapters]
    finally:
        for adapter in adapters:
            adapter.close()
        starttls.stop()
        implicit.stop()
    assert [r.outcome for r in results[:2]] == ["sent", "sent"] and len(mailbox.messages) == 2
    assert results[2].outcome == "permanent" and "certificate" in results[2].error
    assert (results[3].outcome, results[3].status_code) == ("permanent", 530)


# -- the real broker --------------------------------------------------------------------------------------
def test_kafka_output_topic_keys_by_person_with_id_headers(settings: Settings) -> None:
    topic = f"journeys.deliveries.{uuid.uuid4().hex[:8]}"
    adapter = make_adapter("kafka", settings.model_copy(update={"kafka_out_topic": topic,
                                                                "kafka_out_partitions": 2}))
    first, second = outbound("crm", person="p-1"), outbound("crm", person="p-2")
    try:
        results = [adapter.send(first), adapter.send(second)]
    finally:
        adapter.close()
    assert [r.outcome for r in results] == ["sent", "sent"]
    records = {m.key(): m for m in read_topic(settings, topic, 2)}
    assert set(records) == {b"p-1", b"p-2"}
    record = records[b"p-1"]
    assert json.loads(record.value() or b"") == dict(first.payload)
    headers = {k: (v or b"").decode() for k, v in record.headers() or []}
    assert headers["idempotency-key"] == first.idempotency_key
    assert (headers["x-journeys-journey-id"], headers["x-journeys-journey-version"], headers["x-journeys-step-id"],
            headers["x-journeys-decision-id"], headers["x-journeys-delivery-id"], headers["x-journeys-variant"]) == (
        "welcome", "2", "hello", "dec-1", first.delivery_id, "control")


def test_kafka_too_large_is_permanent_and_no_broker_is_retryable(settings: Settings) -> None:
    topic = f"journeys.deliveries.{uuid.uuid4().hex[:8]}"
    small = KafkaOutAdapter(bootstrap=settings.kafka_bootstrap or "", topic=topic, partitions=1,
                            producer_config={"message.max.bytes": 1000})  # librdkafka's minimum
    nowhere = KafkaOutAdapter(bootstrap=f"127.0.0.1:{free_port()}", topic="journeys.deliveries",
                              create_topic=False, timeout_s=1)
    big = outbound("crm")
    big = OutboundMessage(big.delivery_id, big.idempotency_key, "crm", big.template,
                          {**big.payload, "data": {"blob": "x" * 2000}}, big.recipient)
    try:
        too_large, down = small.send(big), nowhere.send(outbound("crm"))
    finally:
        small.close()
        nowhere.close()
    assert too_large.outcome == "permanent" and "MSG_SIZE_TOO_LARGE" in too_large.error
    assert down.outcome == "retryable"


def test_the_registry_builds_every_adapter_from_one_mapping(settings: Settings, sink: tuple[Sink, str],
                                                            smtp_server: tuple[Mailbox, int]) -> None:
    state, base = sink
    mailbox, port = smtp_server
    configured = settings.model_copy(update={
        "channel_adapters": {"email": "smtp", "sms": "webhook", "push": "webhook", "crm": "kafka",
                             "in_app": "in_app"},
        "webhook_secret": SecretStr(SECRET), "webhook_url": f"{base}/all", "smtp_host": "127.0.0.1",
        "smtp_port": port, "smtp_security": "none", "kafka_out_topic": f"journeys.deliveries.{uuid.uuid4().hex[:8]}"})
    adapters = build_adapters(configured)
    try:
        assert {ch: a.name for ch, a in adapters.items()} == {
            "email": "smtp", "sms": "webhook", "push": "webhook", "crm": "kafka", "in_app": "in_app"}
        assert adapters["sms"] is adapters["push"]
        outcomes = {ch: adapters[ch].send(outbound(ch)).outcome for ch in adapters}
    finally:
        close_adapters(adapters)
    assert outcomes == {"email": "sent", "sms": "sent", "push": "sent", "crm": "sent", "in_app": "held"}
    assert len(state.requests) == 2 and len(mailbox.messages) == 1
