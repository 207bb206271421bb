"""The analyst notebooks (notebooks/*.ipynb) run top to bottom with nbclient against a graph seeded by
`app.seed` through the real pipeline, and each one saves its plots; seeding again gives the same graph."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from neo4j import Driver

from app.graph.queries import query
from app.seed import seed_graph
from app.settings import Settings

pytestmark = pytest.mark.integration

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PLOTS = {
    "01_journey_overlap.ipynb": ["overlap_graph"],
    "02_message_pressure.ipynb": ["messages_per_person", "cap_pressure"],
    "03_funnel.ipynb": ["funnel"],
    "04_holdout_lift.ipynb": ["holdout_lift"],
    "05_decision_audit.ipynb": ["decision_audit"],
    "explore.ipynb": [],
    "segments.ipynb": ["segment_sizes", "segment_overlap"],
}


def test_every_notebook_is_covered() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(PLOTS)


def test_notebooks_run_on_a_seeded_graph(settings: Settings, graph: Driver, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    report = seed_graph(settings, graph, seed=7, people=40)
    assert report.counts["Person"] == 40 and report.counts["Decision"] > 0
    assert report.counts["Delivery"] > report.dispatched > 0  # some sent by the log adapter, some still pending
    for name, value in {"NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
                        "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database,
                        "JOURNEYS_NOTEBOOK_PLOTS": str(tmp_path / "plots"), "MPLBACKEND": "Agg",
                        "MPLCONFIGDIR": str(tmp_path / "mpl")}.items():
        monkeypatch.setenv(name, value)
    for name, plots in PLOTS.items():
        book = nbformat.read(NOTEBOOKS / name, as_version=4)
        NotebookClient(book, timeout=60, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # raises on a failing cell
        errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, (name, errors)
        for plot in plots:
            png = tmp_path / "plots" / f"{plot}.png"
            assert png.is_file() and png.stat().st_size > 5000, (name, plot)
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.environ["MPLBACKEND"] == "Agg"
    # same seed, same graph: wipe, seed again, compare the fingerprint of the domain state
    while graph.execute_query(query("analysis/seed_wipe"), database_=settings.neo4j_database).records[0]["deleted"]:
        pass
    again = seed_graph(settings, graph, seed=7, people=40)
    assert (again.fingerprint, again.counts) == (report.fingerprint, report.counts)
