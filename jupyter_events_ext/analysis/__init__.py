"""Export recorded events to tables, and read them back for analysis.

Needs the ``[analysis]`` extra (DuckDB and pyarrow): ``pip install
'jupyter_events_ext[analysis]'``. Importing this package works without it; calling
``read_events`` or ``export_events`` then raises ``MissingExtraError`` saying so.

- ``read_events(source, schema=None, since=None, until=None)``: a ``pyarrow.Table``.
- ``export_events(sources, output, format="parquet", ...)``: one file per schema version,
  as ``jupyter events-ext export`` writes them.
"""

from __future__ import annotations

from .errors import (
    AnalysisError,
    MissingExtraError,
    OutputExistsError,
    SourceError,
    SourceNotFound,
)
from .export import ExportSummary, TableFile, export_events
from .read import LINES_METADATA_KEY, read_events

__all__ = [
    "LINES_METADATA_KEY",
    "AnalysisError",
    "ExportSummary",
    "MissingExtraError",
    "OutputExistsError",
    "SourceError",
    "SourceNotFound",
    "TableFile",
    "export_events",
    "read_events",
]
