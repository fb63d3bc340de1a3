"""docs/analysis.ipynb, executed by a real kernel against a freshly recorded event file.

The file is written by a real EventLogger with the shipped schemas (so the notebook's
field names are the schemas' own), with one line torn the way a crash leaves it; the
answers the notebook prints are checked against what the simulation put in. The docs
site shows the outputs committed with the notebook: they must be what it computes today.
"""

from __future__ import annotations

import copy
import pathlib
import re

import nbformat
from nbclient import NotebookClient
from recorded_events import write_validated

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "docs" / "analysis.ipynb"


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed or displayed, as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return "\n".join(parts)


def shown(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What a reader sees of a cell's outputs: its text, and which outputs are images."""
    seen = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "stream":
            seen.append((output["name"], output["text"]))
        elif "image/png" in data:
            seen.append(("image/png", ""))
        elif "text/plain" in data:
            seen.append(("text/plain", data["text/plain"]))
    return seen


def tagged(notebook: nbformat.NotebookNode, tag: str) -> str:
    cells = [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, tag
    return text_of(cells[0])


def test_the_notebook_answers_its_three_questions(tmp_path, monkeypatch):
    events = write_validated(tmp_path / "events.jsonl", 6000, seed=7)
    with open(events, "a", encoding="utf-8") as file:
        file.write('{"__timestamp__": "2026-11-27T16:59:59.000000Z", "__sche')  # a crash
    monkeypatch.setenv("JUPYTER_EVENTS_EXT_EVENTS", str(events))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Execute a copy; the notebook in docs/ keeps the outputs it shows readers.
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()

    assert str(events) in tagged(notebook, "parameters")
    assert "'torn': 1" in text_of(notebook.cells[6])
    # 1. The simulated durations are log-normal around 350 ms.
    median = float(re.search(r"median ([\d.]+) s", tagged(notebook, "answer-durations"))[1])
    assert 0.25 < median < 0.5
    # 2. The simulation makes Wednesday's lab the hard one.
    assert "Most failures on Wednesday 2026-11-25" in tagged(notebook, "answer-worst-day")
    assert "2026-11-25" in tagged(notebook, "answer-failures")
    # 3. Running a cell and moving on is the most used command.
    table = tagged(notebook, "answer-commands").split("command_id", 1)[1].splitlines()
    assert table[1].startswith("notebook:run-cell-and-select-next ")
    # The torn line was reported where it was read, not hidden.
    assert "skipped 1 bad line (1 torn) while reading events" in tagged(notebook, "answer-commands")


def test_the_outputs_the_docs_show_are_what_it_computes_today(tmp_path, monkeypatch):
    # The committed outputs come from this simulation, read as events.jsonl beside the kernel.
    write_validated(tmp_path / "events.jsonl", 20000, seed=0)
    monkeypatch.setenv("JUPYTER_EVENTS_EXT_EVENTS", "events.jsonl")
    committed = nbformat.read(NOTEBOOK, as_version=4)
    executed = copy.deepcopy(committed)
    NotebookClient(
        executed, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()

    for index, (before, after) in enumerate(zip(committed.cells, executed.cells)):
        if before.cell_type == "code":
            assert before.get("outputs"), f"cell {index} was committed without its outputs"
            assert shown(before) == shown(after), f"cell {index}: re-run it and commit"
