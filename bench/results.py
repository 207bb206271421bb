"""Keep bench/RESULTS.md current: each benchmark owns one section, replaced on every run."""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nLatest figures from `python -m bench.<name>`; each section is rewritten by its run.\n"


def record(name: str, rows: list[tuple[str, str]]) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    body = [f"## {name}", "", f"Run {stamp} on {machine} (embedded ArcadeDB + Tansu unless stated).", "",
            "| measure | value |", "| --- | --- |", *[f"| {k} | {v} |" for k, v in rows], ""]
    section = "\n".join(body) + "\n"
    pattern = re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
