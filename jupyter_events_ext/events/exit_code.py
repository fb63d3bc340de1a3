"""The exit codes of every ``jupyter-events-ext`` command (jupyter_events' ``RC`` values)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means."""

    OK = 0
    INVALID = 1  # the schema, or some recorded event, is invalid
    UNPARSABLE = 2  # a schema could not be read
    NOT_FOUND = 3  # a file the command needs does not exist
