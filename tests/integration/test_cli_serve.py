"""`journeys serve` listens where JOURNEYS_API_HOST / JOURNEYS_API_PORT say (flags override)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from app.embedded import free_port
from app.settings import Settings
from tests.conftest import wait_until

pytestmark = pytest.mark.integration


@contextmanager
def serving(settings: Settings, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    full = {**os.environ, "NEO4J_URI": settings.neo4j_uri or "", "KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "NEO4J_USER": settings.neo4j_user, "NEO4J_PASSWORD": settings.neo4j_password, **env}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", *args], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _health(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def test_serve_honours_api_host_and_port_settings(base_settings: Settings) -> None:
    port = free_port()
    with serving(base_settings, {"JOURNEYS_API_HOST": "127.0.0.1", "JOURNEYS_API_PORT": str(port)}) as proc:
        wait_until(lambda: proc.poll() is not None or _health(port) == 200, timeout=60)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""


def test_serve_flags_override_the_settings(base_settings: Settings) -> None:
    port, ignored = free_port(), free_port()
    with serving(base_settings, {"JOURNEYS_API_PORT": str(ignored)}, "--port", str(port)) as proc:
        wait_until(lambda: proc.poll() is not None or _health(port) == 200, timeout=60)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert _health(ignored) == 0
