"""Every named error of the analysis package; all derive from ``AnalysisError``."""

from __future__ import annotations


class AnalysisError(Exception):
    """Something stopped an export or a read before it produced anything."""


class MissingExtraError(AnalysisError, ImportError):
    """DuckDB or pyarrow, which export and ``read_events`` need, is not installed."""


class SourceNotFound(AnalysisError, FileNotFoundError):
    """A source file does not exist."""


class SourceError(AnalysisError):
    """A source cannot be read: an unreadable file, a Redis that does not answer."""


class OutputExistsError(AnalysisError, FileExistsError):
    """The output path already holds something, which an export never overwrites."""


__all__ = [
    "AnalysisError",
    "MissingExtraError",
    "OutputExistsError",
    "SourceError",
    "SourceNotFound",
]
