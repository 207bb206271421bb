"""Webhook adapter: the delivery as signed JSON over HTTP (SMS, push and CRM providers, or your own service).

Every request carries `X-Journeys-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
(the Stripe / Segment scheme), `Idempotency-Key` (the delivery's key: a re-send after a crash carries the same
one) and `X-Journeys-*` id headers. 2xx is sent; 408, 409, 425, 429, 5xx, timeouts and connection errors are
retryable (a `Retry-After` goes into the result); any other status is permanent.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from app.channels.adapter import OutboundMessage, Outcome, SendResult
from app.channels.adapters import id_headers
from app.clock import Clock, SystemClock

if TYPE_CHECKING:
    from app.settings import Settings

SIGNATURE_HEADER = "X-Journeys-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
DEFAULT_TOLERANCE_S = 300.0
USER_AGENT = "journeys-webhook/1"


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def compute_signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`."""
    return hmac.new(_key(secret), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The `X-Journeys-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def signature_problem(secret: str | bytes, header: str | None, body: bytes,
                      tolerance_s: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> str | None:
    """Why `header` does not sign `body` (a short sentence), or None when it does.

    Accepts several `v1=` entries (a sender rotating secrets) and ignores unknown schemes; the timestamp
    must be within `tolerance_s` of `now` (unix seconds, default the wall clock) either way.
    """
    if not header:
        return f"missing {SIGNATURE_HEADER} header"
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return "signature timestamp is not an integer"
        elif key == "v1":
            candidates.append(value.strip().lower())
    if timestamp is None:
        return "signature has no timestamp (t=)"
    if not candidates:
        return "signature has no v1= entry"
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return f"signature timestamp is {abs(current - timestamp):.0f}s away from now (tolerance {tolerance_s:g}s)"
    expected = compute_signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        return "signature does not match the body"
    return None


def verify_signature(secret: str | bytes, header: str | None, body: bytes,
                     tolerance_s: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """True when `header` (an `X-Journeys-Signature` value) signs the raw `body` with `secret` and its
    timestamp is within `tolerance_s` of `now` (unix seconds; default the wall clock)."""
    return signature_problem(secret, header, body, tolerance_s, now) is None


def classify_status(status: int) -> Outcome:
    """2xx sent; 408, 409, 425, 429 and 5xx retryable; everything else (other 4xx, unfollowed 3xx) permanent."""
    if 200 <= status < 300:
        return "sent"
    if status in RETRYABLE_STATUSES or 500 <= status < 600:
        return "retryable"
    return "permanent"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta seconds or an HTTP date), else None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def request_body(message: OutboundMessage) -> bytes:
    """The JSON body: the delivery payload (ids, content, data) plus `idempotencyKey` and `recipient`."""
    body: dict[str, Any] = {**message.payload, "idempotencyKey": message.idempotency_key,
                            "recipient": dict(message.recipient)}
    body.setdefault("deliveryId", message.delivery_id)
    return orjson.dumps(body, default=str, option=orjson.OPT_SORT_KEYS)


def build_request(message: OutboundMessage, secret: str | bytes, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The exact body bytes and headers of the request for `message` signed at `timestamp`."""
    body = request_body(message)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        IDEMPOTENCY_HEADER: message.idempotency_key,
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        **dict(id_headers(message)),
    }
    return body, headers


def _provider_id(response: httpx.Response) -> str | None:
    for header in ("X-Request-Id", "X-Message-Id"):
        value: str | None = response.headers.get(header)
        if value:
            return value[:200]
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return None
        if isinstance(data, dict) and isinstance(data.get("id"), str | int):
            return str(data["id"])[:200]
    return None


class WebhookAdapter:
    """POSTs each message to its channel's URL with a pooled httpx client (one instance serves many channels)."""

    name = "webhook"

    def __init__(self, *, secret: str | bytes, urls: Mapping[str, str], default_url: str | None = None,
                 timeout_s: float = 10.0, max_connections: int = 20, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._secret = _key(secret)
        self._urls = dict(urls)
        self._default_url = default_url
        self._timeout_s = timeout_s
        self._clock = clock or SystemClock()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings, channels: list[str], *, clock: Clock | None = None
                      ) -> WebhookAdapter:
        """Fails fast (AdapterSettingsError) without a secret or without a URL for one of `channels`."""
        secret, urls = settings.require_webhook(channels)
        known = {ch: u for ch in ("email", "sms", "push", "webhook", "crm")
                 if (u := settings.webhook_url_for(ch)) is not None}
        return cls(secret=secret.get_secret_value(), urls={**known, **urls}, default_url=settings.webhook_url,
                   timeout_s=settings.webhook_timeout_s, max_connections=settings.webhook_max_connections,
                   clock=clock)

    def url_for(self, channel: str) -> str | None:
        return self._urls.get(channel) or self._default_url

    def send(self, message: OutboundMessage) -> SendResult:
        url = self.url_for(message.channel)
        if url is None:
            return SendResult("permanent", error=f"no webhook URL for channel {message.channel!r} "
                              f"(JOURNEYS_WEBHOOK_URL_{message.channel.upper()} or JOURNEYS_WEBHOOK_URL)")
        now_s = self._clock.now_ms() / 1000
        body, headers = build_request(message, self._secret, int(now_s))
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.UnsupportedProtocol as exc:
            return SendResult("permanent", error=f"unsupported URL {url!r}: {exc}")
        except httpx.TimeoutException as exc:
            return SendResult("retryable", error=f"timeout after {self._timeout_s:g}s "
                              f"({type(exc).__name__}) posting to {url}")
        except httpx.HTTPError as exc:  # connection refused/reset, protocol errors
            return SendResult("retryable", error=f"{type(exc).__name__} posting to {url}: {exc}")
        status = response.status_code
        outcome = classify_status(status)
        if outcome == "sent":
            return SendResult("sent", status_code=status, provider_id=_provider_id(response))
        text = response.text[:300].strip()
        error = f"HTTP {status} {response.reason_phrase}" + (f": {text}" if text else "")
        if 300 <= status < 400:
            error += f" (redirect to {response.headers.get('location', '?')} not followed: fix the URL)"
        retry_after = (parse_retry_after(response.headers.get("retry-after"), now_s)
                       if outcome == "retryable" else None)
        return SendResult(outcome, status_code=status, error=error, retry_after_s=retry_after)

    def close(self) -> None:
        self._client.close()
