"""A schema-driven fuzz of every route in /openapi.json (schemathesis, in-process over ASGI, real servers).

Each operation gets positive cases (bodies and parameters the spec allows) and negative ones (that it does
not), sent with a valid key, a wrong key and none. Every answer must be a status the spec documents for that
route, and no answer may be a 5xx other than a documented 503 (a dependency away): no 500s, no crashes.
`JOURNEYS_FUZZ_EXAMPLES` sets the positive examples per operation (default 20; negative ones are half).
"""

from __future__ import annotations

import base64
import os
import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from neo4j import Driver

from app.api.main import create_app
from app.runtime import make_services
from app.settings import Settings

pytestmark = pytest.mark.integration
EXAMPLES = int(os.environ.get("JOURNEYS_FUZZ_EXAMPLES", "20"))
AUTHS = ("valid", "valid", "valid", "valid", "wrong", "none")  # mostly valid, so cases get past the key check


def documented(responses: dict[str, Any], status: int) -> bool:
    """Does an operation's `responses` object list this status (exactly, as `4XX`, or as `default`)?"""
    code = str(status)
    return code in responses or f"{code[0]}XX" in responses or "default" in responses


def registered_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {(method, route.path) for route in app.routes if isinstance(route, APIRoute) and route.include_in_schema
            for method in route.methods if method != "HEAD"}


def spec_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def auth_header(settings: Settings, tags: list[str], which: str) -> dict[str, str]:
    """Segment routes take the write key as the Basic username; every other `/v1` route a Bearer API key."""
    if which == "none":
        return {}
    if "tracking" in tags:
        key = settings.write_keys[0] if which == "valid" else "not-a-write-key"
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    admin = next((k for k in settings.api_keys if k.role == "admin"), settings.api_keys[0])
    return {"Authorization": f"Bearer {admin.key if which == 'valid' else 'not-an-api-key'}"}


class Fuzz:
    """Sends cases and records each (route, status) that breaks the rule once."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.spec = app.openapi()
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        self.settings = settings
        self.problems: dict[tuple[str, int], str] = {}
        self.skipped: list[str] = []
        self.sent = 0
        self.statuses: Counter[int] = Counter()

    def checker(self, label: str, declared: dict[str, Any], tags: list[str]) -> Callable[[Any, str], None]:
        def check(case: Any, which: str) -> None:
            self.sent += 1
            headers = auth_header(self.settings, tags, which)
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the app raised instead of answering: a 500 to a real client
                where = traceback.extract_tb(exc.__traceback__)[-1]
                self.problems.setdefault((label, 500), f"{label}: raised {type(exc).__name__}: {exc} at "
                                                       f"{where.filename}:{where.lineno}"[:400])
                return
            status = response.status_code
            self.statuses[status] += 1
            if status >= 500 and not (status == 503 and documented(declared, 503)):
                self.problems.setdefault((label, status), f"{label}: {status} (server error) {response.text[:200]}")
            elif not documented(declared, status):
                self.problems.setdefault((label, status), f"{label}: {status} is not documented "
                                                          f"(documented: {sorted(declared)}) {response.text[:200]}")

        return check

    def run(self) -> None:
        for result in self.schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            definition = self.spec["paths"][operation.path][operation.method.lower()]
            check = self.checker(label, definition["responses"], definition.get("tags", []))
            for mode, examples in ((schemathesis.GenerationMode.POSITIVE, EXAMPLES),
                                   (schemathesis.GenerationMode.NEGATIVE, max(1, EXAMPLES // 2))):
                test = given(case=operation.as_strategy(generation_mode=mode), which=st.sampled_from(AUTHS))(check)
                test = hsettings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))(test)
                try:
                    test()
                except Unsatisfiable:  # e.g. no negative data exists for this operation
                    self.skipped.append(f"{label} ({mode.value})")


def test_every_route_answers_only_documented_statuses(settings: Settings, graph: Driver) -> None:
    services = make_services(settings, graph, settings.kafka_bootstrap or "")
    try:
        app = create_app(services)
        missing = registered_operations(app) - spec_operations(app.openapi())
        assert not missing, f"routes missing from /openapi.json: {sorted(missing)}"
        fuzz = Fuzz(app, settings)
        fuzz.run()
    finally:
        services.producer.close()
    print(f"fuzz: {fuzz.sent} cases, statuses {dict(sorted(fuzz.statuses.items()))}; "
          f"nothing to generate for: {', '.join(fuzz.skipped) or 'none'}")
    assert fuzz.sent > 0
    assert not fuzz.problems, (f"{len(fuzz.problems)} undocumented or server-error answers in {fuzz.sent} "
                               f"cases:\n" + "\n".join(sorted(fuzz.problems.values())))
