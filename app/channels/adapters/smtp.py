"""SMTP adapter: email with the rendered subject, text and HTML parts (multipart/alternative).

`Message-ID` is `<idempotency key@from domain>`, so a re-send after a crash carries the same id (a receiver
that dedupes on it sees one message; most mailboxes do not, see the README). `X-Journeys-*` headers carry
the journey, version, step, decision, delivery and variant ids. The recipient is the person's `email` trait:
missing or invalid is permanent. SMTP 4xx replies, timeouts and connection errors are retryable; 5xx replies
permanent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING, Any

from app.channels.adapter import OutboundMessage, Outcome, SendResult
from app.channels.adapters import id_headers
from app.channels.adapters.settings import valid_email
from app.clock import Clock, SystemClock
from app.errors import PermanentError

if TYPE_CHECKING:
    from app.settings import Settings


class EmailBuildError(PermanentError):
    """The message cannot become an email (no or invalid address, nothing to send)."""


def classify_smtp_code(code: int) -> Outcome:
    """4xx (and anything odd) retryable, 5xx permanent."""
    return "permanent" if 500 <= code < 600 else "retryable"


def message_id(idempotency_key: str, domain: str) -> str:
    """`<key@domain>`: the same key gives the same Message-ID (characters outside RFC 5322 atoms dropped)."""
    local = re.sub(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]", "", idempotency_key) or "journeys"
    return f"<{local}@{domain}>"


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def build_email(message: OutboundMessage, from_header: str, *, now_ms: int) -> EmailMessage:
    """The email for `message`; raises EmailBuildError (permanent) when it cannot be built."""
    to = message.recipient.get("email")
    if not isinstance(to, str) or not to.strip():
        raise EmailBuildError("the person has no `email` trait", reason="no_address")
    to = to.strip()
    if not valid_email(to):
        raise EmailBuildError(f"invalid email address {to!r}", reason="invalid_address")
    content = message.payload.get("content") or {}
    subject = content.get("subject") if isinstance(content, dict) else None
    text = content.get("text") if isinstance(content, dict) else None
    html = content.get("html") if isinstance(content, dict) else None
    if not text and not html:
        raise EmailBuildError(f"template {message.template!r} rendered no text or HTML body", reason="no_content")
    domain = parseaddr(from_header)[1].rpartition("@")[2] or "localhost"
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = from_header
    msg["To"] = to
    msg["Subject"] = _one_line(subject or "")
    msg["Date"] = format_datetime(dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC))
    msg["Message-ID"] = message_id(message.idempotency_key, domain)
    for name, value in id_headers(message):
        msg[name] = value
    if text and html:
        msg.set_content(str(text))
        msg.add_alternative(str(html), subtype="html")
    elif html:
        msg.set_content(str(html), subtype="html")
    else:
        msg.set_content(str(text))
    return msg


class SmtpAdapter:
    """Sends over a small pool of SMTP connections (one per concurrent sender), reused while they answer NOOP."""

    name = "smtp"

    def __init__(self, *, host: str, port: int, security: str = "starttls", username: str | None = None,
                 password: str | None = None, from_header: str = "journeys@localhost", timeout_s: float = 10.0,
                 verify_tls: bool = True, clock: Clock | None = None) -> None:
        self._host, self._port, self._security = host, port, security
        self._username, self._password = username, password
        self._from = from_header
        self._envelope_from = parseaddr(from_header)[1]
        self._timeout_s = timeout_s
        self._clock = clock or SystemClock()
        self._context = ssl.create_default_context()
        if not verify_tls:
            self._context.check_hostname = False
            self._context.verify_mode = ssl.CERT_NONE
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> SmtpAdapter:
        return cls(host=settings.smtp_host, port=settings.smtp_effective_port, security=settings.smtp_security,
                   username=settings.smtp_username,
                   password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                   from_header=settings.smtp_from, timeout_s=settings.smtp_timeout_s,
                   verify_tls=settings.smtp_verify_tls, clock=clock)

    # -- connections -------------------------------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        conn: smtplib.SMTP
        if self._security == "ssl":
            conn = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s, context=self._context)
        else:
            conn = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        try:
            conn.ehlo()
            if self._security == "starttls":
                conn.starttls(context=self._context)
                conn.ehlo()
            if self._username is not None:
                conn.login(self._username, self._password or "")
        except BaseException:
            _close(conn)
            raise
        return conn

    def _take(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect()
            try:
                if conn.noop()[0] == 250:
                    return conn
            except (smtplib.SMTPException, OSError):
                pass
            _close(conn)

    def _give_back(self, conn: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(conn)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, message: OutboundMessage) -> SendResult:
        try:
            email_message = build_email(message, self._from, now_ms=self._clock.now_ms())
        except EmailBuildError as exc:
            return SendResult("permanent", error=str(exc))
        provider_id = str(email_message["Message-ID"])
        conn: smtplib.SMTP | None = None
        try:
            conn = self._take()
            conn.send_message(email_message, from_addr=self._envelope_from, to_addrs=[str(email_message["To"])])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            return self._failed(conn, classify_smtp_code(code), code, f"recipient refused: {_text(reply)}")
        except smtplib.SMTPResponseException as exc:  # sender/data refused, auth failed, bad greeting
            return self._failed(conn, classify_smtp_code(exc.smtp_code), exc.smtp_code,
                                f"{type(exc).__name__}: {_text(exc.smtp_error)}")
        except smtplib.SMTPNotSupportedError as exc:
            return self._failed(conn, "permanent", None, f"server does not support what the settings ask: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return self._failed(conn, "permanent", None, f"TLS certificate not trusted ({exc}): fix the server "
                                "certificate or JOURNEYS_SMTP_VERIFY_TLS")
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out
            return self._failed(conn, "retryable", None, f"{type(exc).__name__} talking to "
                                f"{self._host}:{self._port}: {exc}")
        self._give_back(conn)
        return SendResult("sent", status_code=250, provider_id=provider_id)

    @staticmethod
    def _failed(conn: smtplib.SMTP | None, outcome: Outcome, code: int | None, error: str) -> SendResult:
        if conn is not None:
            _close(conn)
        return SendResult(outcome, status_code=code, error=error)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _close(conn)


def _close(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
