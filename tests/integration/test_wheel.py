"""The built wheel works outside the checkout: every runtime file ships inside it, and `journeys schema apply`
and `journeys up` (schema, samples, API, consumer) take one event end to end from a temporary directory.

The wheel is built from a copy of the tree (`pip wheel --no-deps`) and installed with `--no-deps` into a fresh
virtualenv whose only link to the project is a path to `.venv`'s site-packages for the dependencies (a path
entry, so `.venv`'s editable finder is never loaded): `app` and `journeys_cypher` come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import uuid
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from app.embedded import free_port
from app.settings import REPO_ROOT, Settings
from tests.conftest import wait_until

pytestmark = pytest.mark.integration

SOURCES = ("pyproject.toml", "setup.py", "README.md", "app", "graph_models", "consumers", "cypher")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the working tree (the checkout itself gets no build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=SKIP)
        else:
            shutil.copy2(origin, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(dist)])
    (found,) = dist.glob("journeys-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv outside the checkout with the wheel installed; returns its bin/ folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    own_site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # Dependencies (and the `embedded` extra's packages) from the project's .venv, as a plain path entry.
    (own_site / "_journeys_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", f"{wheel}[embedded]"])
    return env_dir / "bin"


def _wheel_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "JOURNEYS_CYPHER_DIR", "VIRTUAL_ENV"}}
    return env | {
        "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password, "KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "JOURNEYS_EVENTS_TOPIC": settings.events_topic, "JOURNEYS_DLQ_TOPIC": settings.dlq_topic,
        "JOURNEYS_CONSUMER_GROUP": settings.consumer_group, "JOURNEYS_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "JOURNEYS_WRITE_KEYS": "wheel-key", "JOURNEYS_SESSION_TIMEOUT_MS": "2000", "JOURNEYS_HEARTBEAT_MS": "300",
    } | extra


def test_the_wheel_holds_every_runtime_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    cypher = {f"journeys_cypher/{p.relative_to(REPO_ROOT / 'cypher').as_posix()}"
              for p in (REPO_ROOT / "cypher").rglob("*.cypher")}
    data = {p.relative_to(REPO_ROOT).as_posix() for top in ("app", "graph_models") for p in (REPO_ROOT / top).rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts}
    assert cypher and cypher <= names, f"missing Cypher files: {sorted(cypher - names)[:10]}"
    assert data <= names, f"files under app/ or graph_models/ the wheel leaves out: {sorted(data - names)}"


def test_schema_apply_from_outside_the_checkout(installed: Path, settings: Settings, tmp_path: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import app, journeys_cypher; from app.graph.queries import "
                  "CYPHER_DIR; print(app.__file__); print(CYPHER_DIR)"], cwd=tmp_path, env=_wheel_env(settings))
    assert str(REPO_ROOT) not in where.stdout, where.stdout
    out = _run([str(installed / "journeys"), "schema", "apply"], cwd=tmp_path, env=_wheel_env(settings))
    assert "schema version" in out.stdout


@pytest.fixture
def up(installed: Path, settings: Settings, tmp_path: Path) -> Iterator[int]:
    """`journeys up` from the wheel, in a temporary working directory, against the session's servers."""
    port = free_port()
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen([str(installed / "journeys"), "up", "--port", str(port)], cwd=tmp_path,
                            env=_wheel_env(settings, JOURNEYS_DATA_DIR=str(tmp_path / "data")),
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is not None or _health(port), timeout=90)
        assert proc.poll() is None, (tmp_path / "up.log").read_text()
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _health(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_from_the_wheel_takes_an_event_into_the_graph(up: int, graph: Driver, settings: Settings) -> None:
    message_id = f"wheel-{uuid.uuid4().hex[:8]}"
    sent = httpx.post(f"http://127.0.0.1:{up}/v1/track", auth=("wheel-key", ""), timeout=10,
                      json={"userId": "wheel-user", "event": "Signed Up", "messageId": message_id})
    assert sent.status_code == 200, sent.text

    def stored() -> list[dict[str, object]]:
        records, _, _ = graph.execute_query(
            "MATCH (e:Event {messageId: $m})<-[:PERFORMED]-(p:Person) "
            "OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment) RETURN p.personId AS person, count(en) AS enrollments",
            m=message_id, database_=settings.neo4j_database)
        return [r.data() for r in records]

    found = wait_until(stored, timeout=60)
    # The sample journeys (examples and templates read from the wheel) were published: Signed Up enrolls.
    assert [row["enrollments"] for row in found] == [1]
