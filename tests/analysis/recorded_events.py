"""Realistic recorded events: a class of students using JupyterLab for a week.

The events are the shipped UI-action schemas' (cell execution, commands, documents,
kernels, the active document), with the envelope fields the server extension adds
(``__user__``, ``__id__``). ``write_validated`` sends them through a real ``EventLogger``
with the shipped schemas registered, so every field name and value is checked against
the schemas; ``write_fast`` writes the same envelopes directly, for files too big to
validate in a test's time. Both are deterministic for a given seed.

Used by the tests, the notebook test and ``benchmarks/bench_export.py``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import math
import pathlib
import random
from collections.abc import Iterator
from typing import Any

from jupyter_events_ext.events.envelope import EVENTS_METADATA_VERSION, dumps, format_epoch

SCHEMA_DIR = pathlib.Path(__file__).resolve().parents[2] / "jupyter_events_ext/server/event_schemas"
PREFIX = "https://events.jupyter.org/jupyter_events_ext/"
CELL_EXECUTION = PREFIX + "cell-execution/v1"
COMMAND = PREFIX + "command/v1"
DOCUMENT = PREFIX + "document/v1"
KERNEL = PREFIX + "kernel/v1"
ACTIVE_DOCUMENT = PREFIX + "active-document/v1"
SCHEMA_IDS = (CELL_EXECUTION, COMMAND, DOCUMENT, KERNEL, ACTIVE_DOCUMENT)

# The week the class is recorded; Monday 09:00 UTC.
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
DAYS = 5

# Commands by how often students use them (a long tail, as real usage has).
COMMANDS = [
    "notebook:run-cell-and-select-next",
    "notebook:run-cell",
    "docmanager:save",
    "notebook:insert-cell-below",
    "notebook:enter-edit-mode",
    "notebook:enter-command-mode",
    "notebook:delete-cell",
    "notebook:change-cell-to-markdown",
    "editmenu:undo",
    "notebook:run-all-cells",
    "docmanager:open",
    "application:toggle-left-area",
    "kernelmenu:restart",
    "notebook:copy-cell",
    "notebook:paste-cell-below",
    "apputils:activate-command-palette",
    "filebrowser:open",
    "launcher:create",
    "console:create",
    "help:open",
]
COMMAND_WEIGHTS = [1 / (rank + 1) ** 1.1 for rank in range(len(COMMANDS))]
# Errors students meet, most common first.
ERRORS = ["NameError", "TypeError", "ZeroDivisionError", "KeyError", "IndexError", "ValueError"]
ERROR_WEIGHTS = [8, 5, 3, 3, 2, 2]
NOTEBOOKS = ["lab1/intro.ipynb", "lab2/loops.ipynb", "lab3/functions.ipynb", "project.ipynb"]


def failure_rate(day: int, hour: float) -> float:
    """Errors cluster: more on Wednesday (the hard lab) and late in each session."""
    base = 0.25 if day == 2 else 0.08
    return min(0.9, base * (1 + (hour - 9) / 4))


def simulate(count: int, seed: int = 0) -> Iterator[tuple[float, str, dict[str, Any], dict]]:
    """``count`` events as ``(epoch seconds, schema $id, data, metadata)``.

    They come in about the order they happen (a cell's finished event right after its
    started one).
    """
    rng = random.Random(seed)
    students = [f"student-{i:02d}" for i in range(1, 41)]
    # Spread the events over 09:00-17:00 of each day, in order (35% of the steps below
    # give two events: a cell's start and finish).
    step = DAYS * 8 * 3600 / max(count, 1) * 1.3
    moment = START.timestamp()
    produced = 0
    pending: list[tuple[float, str, dict[str, Any], dict]] = []
    while produced < count:
        if pending:
            yield pending.pop()
            produced += 1
            continue
        moment += rng.expovariate(1 / step)
        day, seconds = divmod(moment - START.timestamp(), 86400)
        if seconds > 8 * 3600:  # after 17:00: jump to the next morning
            moment = START.timestamp() + (day + 1) * 86400
            day, seconds = day + 1, 0.0
        user = rng.choice(students)
        meta = {"__user__": user, "__id__": f"{rng.getrandbits(64):016x}"}
        kind = rng.random()
        notebook = rng.choice(NOTEBOOKS)
        if kind < 0.45:
            command = rng.choices(COMMANDS, COMMAND_WEIGHTS)[0]
            data: dict[str, Any] = {"command_id": command}
            if command == "docmanager:open":  # an operator allowlisted its arguments
                data["args"] = {"path": notebook, "factory": "Notebook"}
            yield moment, COMMAND, data, meta
        elif kind < 0.80:
            cell = {
                "cell_id": f"{rng.getrandbits(32):08x}",
                "notebook": notebook,
                "path_mode": "as-is",
                "kernel_name": "python3",
            }
            yield moment, CELL_EXECUTION, {"phase": "started", **cell}, meta
            duration = rng.lognormvariate(math.log(350), 1.3)
            finished = {
                "phase": "finished",
                **cell,
                "execution_count": rng.randint(1, 60),
                "duration_ms": round(duration, 1),
            }
            if rng.random() < failure_rate(int(day), 9 + seconds / 3600):
                finished["success"] = False
                finished["error_name"] = rng.choices(ERRORS, ERROR_WEIGHTS)[0]
            else:
                finished["success"] = True
            meta2 = {"__user__": user, "__id__": f"{rng.getrandbits(64):016x}"}
            pending.append((moment + duration / 1000, CELL_EXECUTION, finished, meta2))
        elif kind < 0.90:
            data = {"path_mode": "as-is", "path": notebook, "document_type": "notebook"}
            yield moment, ACTIVE_DOCUMENT, data, meta
        elif kind < 0.97:
            action = rng.choices(["opened", "saved", "closed"], [2, 5, 1])[0]
            data = {"action": action, "path": notebook, "path_mode": "as-is"}
            data["document_type"] = "notebook"
            yield moment, DOCUMENT, data, meta
        else:
            action = rng.choices(["start", "restart", "interrupt", "shutdown"], [2, 4, 2, 1])[0]
            data = {"action": action, "kernel_name": "python3", "notebook": notebook}
            data["path_mode"] = "as-is"
            yield moment, KERNEL, data, meta
        produced += 1


def envelope_line(moment: float, schema_id: str, data: dict, meta: dict) -> str:
    """The line ``EventLogger`` writes for this event (same fields, same order)."""
    envelope = {
        "__timestamp__": format_epoch(moment),
        "__schema__": schema_id,
        "__schema_version__": "1",
        "__metadata_version__": EVENTS_METADATA_VERSION,
        **meta,
        **data,
    }
    return dumps(envelope)


def _open(path: pathlib.Path, mode: str) -> Any:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def write_fast(path: pathlib.Path, count: int, seed: int = 0) -> pathlib.Path:
    """Write ``count`` events to ``path`` (gzipped if it ends in ``.gz``) without validating."""
    with _open(path, "w") as file:
        file.writelines(envelope_line(*event) + "\n" for event in simulate(count, seed))
    return path


def write_validated(path: pathlib.Path, count: int, seed: int = 0) -> pathlib.Path:
    """Write ``count`` events to ``path`` through a real ``EventLogger`` and the shipped schemas."""
    from jupyter_events_ext.events import EventLogger

    handler = logging.FileHandler(path, encoding="utf-8")
    logger = EventLogger(handlers=[handler])
    for schema_file in sorted(SCHEMA_DIR.glob("*/v1.yaml")):
        logger.register_event_schema(schema_file)
    try:
        for moment, schema_id, data, meta in simulate(count, seed):
            logger.emit(
                schema_id=schema_id,
                data=data,
                timestamp_override=dt.datetime.fromtimestamp(moment, dt.timezone.utc),
                metadata=meta,
            )
    finally:
        logger.remove_handler(handler)
        handler.close()
    return path
