"""The engine, DuckDB (with pyarrow to hand batches to it and tables back): imported on
first use, so that ``import jupyter_events_ext.analysis`` works without the extra, and
configured to run in bounded memory."""

from __future__ import annotations

import pathlib
from typing import Any

from .errors import MissingExtraError

INSTALL_HINT = "pip install 'jupyter_events_ext[analysis]'"

# DuckDB keeps at most this much in memory and spills the rest to disk; the whole process
# stays within a few hundred MB more (Python, pyarrow, the batch being read).
MEMORY_LIMIT = "256MB"


def require() -> tuple[Any, Any]:
    """``(duckdb, pyarrow)``, or ``MissingExtraError`` saying how to install them."""
    missing = []
    try:
        import duckdb
    except ImportError:
        missing.append("duckdb")
    try:
        import pyarrow
    except ImportError:
        missing.append("pyarrow")
    if missing:
        raise MissingExtraError(
            f"Exporting and reading events needs {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {INSTALL_HINT}"
        )
    return duckdb, pyarrow


def connect(spill_directory: pathlib.Path) -> Any:
    """A fresh in-memory DuckDB that spills to ``spill_directory`` beyond ``MEMORY_LIMIT``."""
    duckdb, _ = require()
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": str(spill_directory),
            # Staging needs no order (lines carry their numbers); keeping it would cost
            # memory. staging.stage turns it on once the staged table is sorted.
            "preserve_insertion_order": False,
            # Timestamps are read, compared and written as UTC whatever the machine's zone.
            "TimeZone": "UTC",
            # Nothing is fetched over the network (extensions ship inside the wheel).
            "autoinstall_known_extensions": False,
        },
    )
    return con
