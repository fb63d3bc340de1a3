"""JSON-lines files: a file handler that never leaves half an event behind, and reading
back what such sinks hold."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator

from ..events.envelope import EVENT_ID_FIELD as ID_FIELD
from .owned_files import PRIVATE_FILE, WriterLock, fsync_directory

# How much of the end of a JSON-lines sink is read at start-up for ids already recorded.
ID_SCAN_BYTES = 8 * 1024 * 1024
TORN_SUFFIX = ".torn"
# When a written event is on the disk: left to the operating system, or before it counts.
FSYNC_MODES = ("never", "batch")

log = logging.getLogger(__name__)


class JsonLinesFileHandler(logging.FileHandler):
    """Appends each record as one line of a UTF-8 JSON-lines file, whole or not at all.

    A ``logging.FileHandler`` writes through a buffer: when the disk fills, part of a line
    can reach the file and the rest stay in the buffer, to be written after some later
    line. This handler writes each line with unbuffered ``os.write`` calls and, when one
    fails (disk full, file too large, ...), cuts the file back to where the line began
    before reporting the error through ``handleError``, so the file only ever holds
    whole lines and a failed event can be written again later without a trace of the
    first attempt. A line torn by a crash mid-write is set aside at start-up (see
    ``repair``).

    ``fsync`` says when a written event survives a power cut, not only the process:
    ``"never"`` (the default) leaves it to the operating system, which writes it to the
    disk within seconds; ``"batch"`` puts each write on the disk before the event counts
    as written: a request's or socket message's lines held by ``holding()`` (one disk
    round trip for all of them), or one line emitted outside it. (``True`` and ``False``
    are taken for ``"batch"`` and ``"never"``.) Either way, the directory is synced
    whenever the handler makes its file (at start, and in a rotation after the renames),
    so that the file never goes missing from it.

    ``max_bytes`` (0: never) rotates the file before a write would take it past that
    size: ``<file>`` becomes ``<file>.1``, ``.1`` becomes ``.2`` and so on, and the
    oldest beyond ``backup_count`` is deleted. A write (one line, or a request's held
    lines) never straddles two files.

    One process writes a regular file: ``claim()`` (or the first write) takes a
    ``WriterLock`` on it and opens it, and raises ``FileInUse`` if another process (or
    another handler) writes it; ``close()`` lets it go. Files it makes are readable by
    their owner only (``permissions``, 0o600). A FIFO is neither locked nor opened before
    its first write, and written without blocking: with no reader, or a reader too slow
    to take a line, the event fails (and a line longer than the pipe's atomic size may
    reach the reader cut short, which nothing can take back).
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        *,
        fsync: str | bool = "never",
        max_bytes: int = 0,
        backup_count: int = 0,
        permissions: int = PRIVATE_FILE,
    ) -> None:
        if max_bytes < 0 or backup_count < 0:
            raise ValueError("max_bytes and backup_count must not be negative")
        self.fsync = {True: "batch", False: "never"}.get(fsync, fsync)  # type: ignore[call-overload]
        if self.fsync not in FSYNC_MODES:
            raise ValueError(f"fsync must be one of {', '.join(FSYNC_MODES)}, not {fsync!r}")
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self.permissions = permissions
        self._held: tuple[int, list[bytes]] | None = None  # (thread, lines) in holding()
        self._writer: WriterLock | None = None
        # Opened by claim() or the first write, never here: making the handler (in a
        # configuration file, say) neither waits for a FIFO's reader nor takes a file.
        super().__init__(filename, mode="a", encoding="utf-8", delay=True)

    def claim(self) -> None:
        """Take a regular file (or one not made yet) for this process and open it now,
        setting aside a torn last line; raises ``FileInUse`` if another writes it. Other
        files (a FIFO, a device) are left to the first write."""
        path = self.baseFilename
        if os.path.exists(path) and not is_regular_file(path):
            return
        with self.lock:  # type: ignore[union-attr]
            if self.stream is None:
                self.stream = self._open()

    def _open(self):  # type: ignore[no-untyped-def]
        path = self.baseFilename
        regular = not os.path.exists(path) or is_regular_file(path)
        if regular and self._writer is None:
            self._writer = WriterLock(path)
        repair(path)
        created = regular and not os.path.exists(path)
        # Non-blocking, so that a FIFO without a reader (or with a full pipe) fails this
        # event instead of holding the server in open() or write(); regular files ignore it.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
        stream = open(os.open(path, flags, self.permissions), "ab", buffering=0)  # noqa: SIM115 (kept)
        if created:  # at start-up or in a rotation, after its renames: both on the disk
            fsync_directory(os.path.dirname(path))
        return stream

    def close(self) -> None:
        super().close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record).encode("utf-8") + b"\n"
            held = self._held
            if held is not None and held[0] == threading.get_ident():
                held[1].append(line)
                return
            if self.stream is None:
                self.stream = self._open()
            self._append(line)
        except Exception:
            self.handleError(record)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Hold the lines this thread emits in the block and write them with one system
        call at its end, whole or not at all: a request's batch costs one write.

        Raises the ``OSError`` of that write, after cutting back what part of it got
        written; none of the held events is then in the file. Lines emitted by other
        threads meanwhile are written at once, as usual.
        """
        if self._held is not None:
            raise RuntimeError("JsonLinesFileHandler.holding() does not nest")
        lines: list[bytes] = []
        self._held = (threading.get_ident(), lines)
        try:
            yield
        finally:
            self._held = None
        if lines:
            with self.lock:  # type: ignore[union-attr]
                if self.stream is None:
                    self.stream = self._open()
                self._append(b"".join(lines))

    def flush(self) -> None:
        """Nothing waits in a buffer: each line is written when it is emitted."""

    def _append(self, data: bytes) -> None:
        fd = self.stream.fileno()
        try:
            start: int | None = os.lseek(fd, 0, os.SEEK_END)
        except OSError:  # a FIFO or a device: nothing to cut back
            start = None
        if self.max_bytes and start and start + len(data) > self.max_bytes:
            self._rotate()
            fd = self.stream.fileno()
            start = 0
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self.fsync == "batch":
                os.fsync(fd)
        except BaseException:
            # Take back what part of the line got written; the caller reports the error.
            if start is not None:
                with contextlib.suppress(OSError):  # else repaired at the next start-up
                    os.ftruncate(fd, start)
            raise

    def _rotate(self) -> None:
        self.stream.close()
        self.stream = None
        base = self.baseFilename
        if self.backup_count == 0:
            os.remove(base)
        else:
            for n in range(self.backup_count - 1, 0, -1):
                if os.path.exists(f"{base}.{n}"):
                    os.replace(f"{base}.{n}", f"{base}.{n + 1}")
            os.replace(base, f"{base}.1")
        self.stream = self._open()


def is_regular_file(path: str) -> bool:
    """Whether ``path`` is a regular file, which can be read back without blocking
    (unlike a FIFO, a terminal or ``/dev/stdout``)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def repair(path: str) -> int:
    """Set aside a torn last line of the JSON-lines file at ``path``; return its length.

    A process that dies mid-write leaves a file that does not end in a newline; the next
    line written would be glued onto the fragment, spoiling both. The fragment, an event
    that was never reported written, is moved to ``<path>.torn`` for inspection and cut
    from the file. Files that are not regular files are left alone.
    """
    if not is_regular_file(path):
        return 0
    with open(path, "r+b") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return 0
        # Find the start of the torn line, reading back in blocks.
        end = size
        start = 0
        block = 64 * 1024
        while end > 0:
            begin = max(0, end - block)
            file.seek(begin)
            chunk = file.read(end - begin)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                start = begin + newline + 1
                break
            end = begin
        file.seek(start)
        fragment = file.read()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        with open(os.open(path + TORN_SUFFIX, flags, PRIVATE_FILE), "ab") as torn:
            torn.write(fragment + b"\n")
        file.truncate(start)
    log.warning(
        "%s ended in a torn line of %d bytes (a write cut short); it was moved to %s",
        path,
        len(fragment),
        path + TORN_SUFFIX,
    )
    return len(fragment)


def recorded_ids(path: str, max_bytes: int = ID_SCAN_BYTES) -> list[str]:
    """The client ids (``__id__``) in the last ``max_bytes`` of a JSON-lines sink, oldest
    first; none for a sink that is not a regular file."""
    if not is_regular_file(path):
        return []
    try:
        with open(path, "rb") as sink:
            start = max(0, sink.seek(0, os.SEEK_END) - max_bytes)
            # One byte early, to tell whether the window starts a line or cuts one.
            sink.seek(max(0, start - 1))
            tail = sink.read()
    except OSError:
        return []
    if start > 0:
        newline = tail.find(b"\n")
        tail = tail[newline + 1 :] if newline >= 0 else b""
    ids = []
    for line in tail.split(b"\n"):
        if b'"__id__"' not in line:
            continue
        try:
            client_id = json.loads(line).get(ID_FIELD)
        except (ValueError, AttributeError):
            continue  # a torn or foreign line: nothing to remember
        if isinstance(client_id, str):
            ids.append(client_id)
    return ids
