"""Finding a running `journeys up` through its runtime file (app/discovery.py) and the CLI's use of it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.discovery import (
    RuntimeInfo,
    discover,
    nothing_running,
    pid_alive,
    read_runtime,
    remove_runtime,
    running,
    write_runtime,
)
from app.settings import get_settings

runner = CliRunner()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def info(pid: int) -> RuntimeInfo:
    return RuntimeInfo(pid=pid, boltUri="bolt://127.0.0.1:7999", kafkaBootstrap="127.0.0.1:9999",
                       apiUrl="http://127.0.0.1:8088")


def test_round_trip_and_liveness(tmp_path: Path) -> None:
    assert read_runtime(tmp_path) is None and running(tmp_path) is None
    write_runtime(tmp_path, info(1234))
    assert read_runtime(tmp_path) == info(1234)
    assert pid_alive(os.getpid()) and not pid_alive(dead_pid()) and not pid_alive(0)
    remove_runtime(tmp_path, 999)  # not ours: kept
    assert read_runtime(tmp_path) is not None
    remove_runtime(tmp_path, 1234)
    assert read_runtime(tmp_path) is None


def test_unreadable_file_is_nothing(tmp_path: Path) -> None:
    (tmp_path / "runtime.json").write_text("{not json")
    assert read_runtime(tmp_path) is None
    (tmp_path / "runtime.json").write_text('{"pid": "x"}')
    assert read_runtime(tmp_path) is None


def test_discover_fills_only_what_is_unset(tmp_path: Path) -> None:
    write_runtime(tmp_path, info(os.getpid()))
    env: dict[str, str] = {}
    assert discover(tmp_path, env) is not None
    assert env == {"NEO4J_URI": "bolt://127.0.0.1:7999", "KAFKA_BOOTSTRAP": "127.0.0.1:9999"}
    env = {"NEO4J_URI": "bolt://elsewhere:7687"}
    discover(tmp_path, env)
    assert env == {"NEO4J_URI": "bolt://elsewhere:7687", "KAFKA_BOOTSTRAP": "127.0.0.1:9999"}
    env = {"NEO4J_URI": "bolt://a:1", "KAFKA_BOOTSTRAP": "b:2"}
    assert discover(tmp_path, env) is None and env == {"NEO4J_URI": "bolt://a:1", "KAFKA_BOOTSTRAP": "b:2"}


def test_a_dead_up_is_not_discovered(tmp_path: Path) -> None:
    pid = dead_pid()
    write_runtime(tmp_path, info(pid))
    env: dict[str, str] = {}
    assert discover(tmp_path, env) is None and env == {}
    assert f"pid {pid}, is no longer running" in nothing_running(tmp_path)
    assert "no `journeys up` is running" in nothing_running(tmp_path / "empty")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("NEO4J_URI", "KAFKA_BOOTSTRAP"):
        # setenv first, so teardown restores the original state even when the variable was absent: the CLI's
        # discovery sets them in os.environ, and a later test in the process must not connect to them
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("JOURNEYS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_commands_say_clearly_that_nothing_is_running(clean_env: Path) -> None:
    for args in (["journey", "list"], ["people", "show", "ann"], ["schema", "apply"], ["serve"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        flat = " ".join(result.output.split())
        assert "no `journeys up` is running" in flat and "Start `journeys up`" in flat, flat


def test_commands_use_a_running_up(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_runtime(clean_env, info(os.getpid()))
    seen: list[str] = []

    def fake_connect(settings: object, uri: str, wait_s: float = 60.0) -> object:
        seen.append(uri)
        raise SystemExit(0)

    monkeypatch.setattr("app.cli_graph.connect", fake_connect)
    result = runner.invoke(app, ["journey", "list"])
    assert seen == ["bolt://127.0.0.1:7999"], result.output
    assert os.environ["KAFKA_BOOTSTRAP"] == "127.0.0.1:9999"
