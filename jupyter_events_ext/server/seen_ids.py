"""The client ids recently recorded, remembered across restarts, so that a retry counts once."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii as json_string  # what json.dumps uses
from typing import TextIO

from ..sinks.owned_files import PRIVATE_FILE, WriterLock, fsync_directory, make_private_directory


class SeenIds:
    """The last ``size`` client ids recorded, in memory and in an append-only file.

    ``add`` remembers an id at once; ``save`` appends those added since the last save to
    the file in one write, so a request costs one write whatever its batch size. At
    start-up the file's last ``size`` ids are read back (a line torn by a crash is
    ignored), and the file is rewritten with only those whenever it holds twice as many.
    ``path=None`` keeps the ids in memory only.

    One process writes the file: making a ``SeenIds`` takes its ``WriterLock`` (raising
    ``FileInUse`` if another holds it) and ``close()`` lets it go. The file, and its
    directory when made, are readable by their owner only.
    """

    def __init__(self, size: int, path: str | None, log: logging.Logger) -> None:
        self.size = size
        self.path = path
        self.log = log
        # A set to look ids up and a deque to forget the oldest: a dict would do both, but
        # finding its first key costs more the more keys were deleted before it.
        self._ids: set[str] = set()
        self._order: collections.deque[str] = collections.deque()
        self._unsaved: list[str] = []
        self._lines_in_file = 0
        self._file: TextIO | None = None  # kept open for appending between saves
        self._writer: WriterLock | None = None
        if path is not None:
            make_private_directory(os.path.dirname(path))
            self._writer = WriterLock(path)
            self._load(path)

    def __contains__(self, client_id: str) -> bool:
        return client_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, client_ids: Iterable[str], *, save: bool = True) -> None:
        """Remember ``client_ids`` (any already remembered keep their place); unless
        ``save=False``, write them to the file on the next ``save``."""
        ids, order, unsaved = self._ids, self._order, self._unsaved
        for client_id in client_ids:
            if client_id in ids:
                continue
            ids.add(client_id)
            order.append(client_id)
            if save:
                unsaved.append(client_id)
        while len(order) > self.size:
            ids.discard(order.popleft())

    def save(self) -> None:
        """Append the ids added since the last save to the file (logged, never raised,
        if that fails: the events are recorded; only recognizing their retries after a
        restart suffers)."""
        if self.path is None or not self._unsaved:
            self._unsaved.clear()
            return
        lines = "".join([json_string(client_id) + "\n" for client_id in self._unsaved])
        try:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8", opener=_private)  # noqa: SIM115 (kept)
            self._file.write(lines)
            self._file.flush()
        except OSError as err:
            self._close_file()  # and reopen next time, rather than keep a failed buffer
            self.log.warning(
                "jupyter_events_ext: could not save %d recorded ids to %s (%s); a retry of "
                "those events after a restart may be recorded again",
                len(self._unsaved),
                self.path,
                err,
            )
        else:
            self._lines_in_file += len(self._unsaved)
        self._unsaved.clear()
        if self._lines_in_file > 2 * self.size:
            self._compact()

    def close(self) -> None:
        """Close the file and let it go (its ids stay known in memory)."""
        self._close_file()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def _load(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                lines = file.read().split("\n")
        except FileNotFoundError:
            return
        except OSError as err:
            self.log.warning(
                "jupyter_events_ext: could not read recorded ids from %s: %s", path, err
            )
            return
        ids = []
        for line in lines[:-1]:  # the last is empty, or torn by a crash
            try:
                client_id = json.loads(line)
            except ValueError:
                continue
            if isinstance(client_id, str):
                ids.append(client_id)
        self._lines_in_file = len(lines) - 1
        # An id can be in the file twice (recorded again once forgotten): its last line
        # says when it was last recorded.
        latest_first = dict.fromkeys(reversed(ids))
        self.add(reversed(list(latest_first)[: self.size]), save=False)
        if lines[-1] or self._lines_in_file > 2 * self.size:
            self._compact()

    def _compact(self) -> None:
        assert self.path is not None
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8", opener=_private) as file:
                file.write("".join([json_string(client_id) + "\n" for client_id in self._order]))
                file.flush()
                os.fsync(file.fileno())  # whole before it takes the file's name
            os.replace(temporary, self.path)
            fsync_directory(os.path.dirname(self.path))
            self._close_file()  # the next save appends to the new file
        except OSError as err:
            self.log.warning("jupyter_events_ext: could not compact %s: %s", self.path, err)
            return
        self._lines_in_file = len(self._order)


def _private(path: str, flags: int) -> int:
    """Open (making it owner-only if new), for ``open(..., opener=_private)``."""
    return os.open(path, flags, PRIVATE_FILE)
