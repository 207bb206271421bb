"""Finding a running `journeys up`: it writes `<data dir>/runtime.json` (Bolt URI, Kafka bootstrap, API URL,
pid); other commands read it when NEO4J_URI / KAFKA_BOOTSTRAP are unset and that pid is still alive."""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass
from pathlib import Path

RUNTIME_FILE = "runtime.json"


@dataclass(frozen=True)
class RuntimeInfo:
    """What a running `journeys up` serves."""

    pid: int
    boltUri: str
    kafkaBootstrap: str
    apiUrl: str | None = None


def runtime_path(data_dir: Path) -> Path:
    return data_dir / RUNTIME_FILE


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (signal 0 checks without touching it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def write_runtime(data_dir: Path, info: RuntimeInfo) -> Path:
    """Write the runtime file atomically (a reader never sees half of it)."""
    path = runtime_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def remove_runtime(data_dir: Path, pid: int) -> None:
    """Remove the runtime file if it is still the one `pid` wrote."""
    found = read_runtime(data_dir)
    if found is not None and found.pid == pid:
        runtime_path(data_dir).unlink(missing_ok=True)


def read_runtime(data_dir: Path) -> RuntimeInfo | None:
    """The runtime file's content (alive or not), else None (missing or unreadable)."""
    try:
        data = json.loads(runtime_path(data_dir).read_text(encoding="utf-8"))
        return RuntimeInfo(pid=int(data["pid"]), boltUri=str(data["boltUri"]),
                           kafkaBootstrap=str(data["kafkaBootstrap"]), apiUrl=data.get("apiUrl"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running(data_dir: Path) -> RuntimeInfo | None:
    """The runtime of a `journeys up` that is still alive, else None."""
    found = read_runtime(data_dir)
    return found if found is not None and pid_alive(found.pid) else None


def discover(data_dir: Path, env: MutableMapping[str, str]) -> RuntimeInfo | None:
    """Fill NEO4J_URI and KAFKA_BOOTSTRAP in `env` from a running `journeys up` where they are unset (an
    explicit setting always wins); returns what was found."""
    if env.get("NEO4J_URI") and env.get("KAFKA_BOOTSTRAP"):
        return None
    found = running(data_dir)
    if found is None:
        return None
    if not env.get("NEO4J_URI"):
        env["NEO4J_URI"] = found.boltUri
    if not env.get("KAFKA_BOOTSTRAP"):
        env["KAFKA_BOOTSTRAP"] = found.kafkaBootstrap
    return found


def nothing_running(data_dir: Path) -> str:
    """A plain sentence for a command that needs the graph when none is configured or running."""
    stale = read_runtime(data_dir)
    detail = (f" (the last one, pid {stale.pid}, is no longer running)" if stale is not None else "")
    return (f"no graph: NEO4J_URI is not set and no `journeys up` is running for data dir {data_dir}{detail}. "
            "Start `journeys up` in another terminal, or set NEO4J_URI (and KAFKA_BOOTSTRAP).")
