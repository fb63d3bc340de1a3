"""Where recorded events come from, read as Arrow batches of raw lines.

A source is a JSON-lines file (rotated or gzipped ones too: ``events.jsonl.1``,
``events.jsonl.2026-11-27``, ``events.jsonl.3.gz``; gzip is recognised by its magic
bytes, whatever the name), a directory (the sink files in it: ``events*.jsonl*``, which
is how the servers of one user name their default sinks in their shared data
directory; not ``.torn`` files, which hold torn lines set aside) or a Redis stream
written by ``RedisStreamHandler`` (``redis://host:port/db#stream``; ``rediss://`` and
``unix:///socket?db=0#stream`` too).

Every source yields record batches of ``batch_schema()``, one row per line or stream
entry, without parsing any JSON: that is the engine's job. Lines that cannot even be
handed to it (not UTF-8, absurdly long, a stream entry with no ``event`` field) arrive
with ``problem`` set to ``"<kind>: <why>"``, so that they are counted, never dropped.
Memory stays bounded whatever the size of a source: files are read in ``CHUNK_BYTES``
pieces and streams in ``STREAM_BATCH`` entries.
"""

from __future__ import annotations

import array
import dataclasses
import gzip
import os
import pathlib
import re
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Union

from .engine import require
from .errors import MissingExtraError, SourceError, SourceNotFound

SourceLike = Union[str, "os.PathLike[str]"]

CHUNK_BYTES = 4 << 20
STREAM_BATCH = 10_000
# A line longer than this is not an event (the server accepts 64 KiB of event data by
# default); it is counted as torn and skipped, so that one runaway line cannot exhaust
# memory.
MAX_LINE_BYTES = 16 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_REDIS_URL = re.compile(r"^(redis|rediss|unix)://", re.IGNORECASE)
DEFAULT_STREAM = "jupyter_events"
# How the servers of one user name their default sinks: events.jsonl, events-<name>.jsonl.
SINK_FILE_PREFIX = "events"

Advance = Callable[[int], None]


def batch_schema() -> Any:
    """The columns of every batch: which source, where in it, the raw text and any problem."""
    _, pa = require()
    return pa.schema(
        [
            ("source", pa.int32()),
            ("lineno", pa.int64()),  # line number in a file, entry number in a stream (from 1)
            ("entry", pa.large_string()),  # a stream entry's id; null for files
            ("line", pa.large_string()),
            ("problem", pa.large_string()),
        ]
    )


def _make_batch(
    index: int, first: int, lines: Any, entries: list[str] | None = None, problems: Any = None
) -> Any:
    """A batch for ``lines`` (an Arrow binary array), numbered from ``first``.

    Text that is not UTF-8 becomes a printable stand-in with the problem ``torn``.
    """
    _, pa = require()
    count = len(lines)
    try:
        text = lines.cast(pa.large_string())
    except pa.ArrowInvalid:
        decoded, bad = [], []
        for raw in lines.to_pylist():
            if raw is None:
                decoded.append(None)
                bad.append(None)
                continue
            try:
                decoded.append(raw.decode("utf-8"))
                bad.append(None)
            except UnicodeDecodeError as err:
                decoded.append(raw.decode("utf-8", "backslashreplace"))
                bad.append(f"torn: not UTF-8 at byte {err.start}")
        text = pa.array(decoded, pa.large_string())
        if problems is not None:
            bad = [old or new for old, new in zip(problems.to_pylist(), bad)]
        problems = pa.array(bad, pa.large_string())
    return pa.record_batch(
        [
            _from_buffer(pa.int32(), array.array("i", [index]) * count),
            _numbers(first, count),
            pa.nulls(count, pa.large_string())
            if entries is None
            else pa.array(entries, pa.large_string()),
            text,
            pa.nulls(count, pa.large_string()) if problems is None else problems,
        ],
        schema=batch_schema(),
    )


def _numbers(first: int, count: int) -> Any:
    """``first, first + 1, ...`` (``count`` of them) as an Arrow int64 array."""
    _, pa = require()
    import pyarrow.compute as pc

    # Summed in C++: a Python range of a million numbers costs more than reading the lines.
    steps = array.array("q", [1]) * count
    if count:
        steps[0] = first
    return pc.cumulative_sum(_from_buffer(pa.int64(), steps))


def _from_buffer(arrow_type: Any, values: array.array) -> Any:
    """``values`` as an Arrow array of ``arrow_type`` (of the same width), without a copy.

    The hot path builds its arrays this way: ``pa.array`` or ``pa.scalar`` of Python values
    imports pandas when it is installed, a tenth of a second of start-up for nothing.
    """
    _, pa = require()
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])


@dataclasses.dataclass
class FileSource:
    """A JSON-lines file, plain or gzipped."""

    path: pathlib.Path

    @property
    def name(self) -> str:
        return str(self.path)

    def check(self) -> None:
        """Raise ``SourceNotFound`` or ``SourceError`` now rather than halfway through."""
        if not self.path.exists():
            raise SourceNotFound(f"{self.path}: no such file")
        try:
            with open(self.path, "rb"):
                pass
        except OSError as err:
            raise SourceError(f"{self.path}: {err.strerror or err}") from err

    def size(self) -> int:
        """Progress is counted in bytes of the file as stored (compressed, for gzip)."""
        return self.path.stat().st_size

    def batches(self, index: int, advance: Advance) -> Iterator[Any]:
        try:
            yield from self._batches(index, advance)
        except OSError as err:
            raise SourceError(f"{self.path}: {err.strerror or err}") from err

    def _batches(self, index: int, advance: Advance) -> Iterator[Any]:
        _, pa = require()
        with open(self.path, "rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            first = 1
            rest = b""
            skipping = False  # inside a line longer than MAX_LINE_BYTES
            done = 0
            for chunk in _chunks(raw, gzipped):
                position = raw.tell()
                advance(position - done)
                done = position
                if isinstance(chunk, _Cut):
                    if skipping:  # cut inside a runaway line, already counted
                        return
                    # What the file was in the middle of when its data ends is torn.
                    yield _make_batch(
                        index,
                        first,
                        pa.array([rest[:200]], pa.large_binary()),
                        problems=pa.array([f"torn: {chunk.why}"], pa.large_string()),
                    )
                    return
                cut = chunk.rfind(b"\n")
                if cut < 0:
                    if not skipping:
                        rest += chunk
                        if len(rest) > MAX_LINE_BYTES:
                            yield self._oversized(index, first, rest)
                            first += 1
                            rest, skipping = b"", True
                    continue
                if skipping:
                    # The runaway line ends in this chunk; the lines after it are read.
                    chunk = chunk[chunk.find(b"\n") + 1 :]
                    cut = chunk.rfind(b"\n")
                    skipping = False
                    if cut < 0:
                        rest = chunk
                        continue
                start = 0
                if rest:
                    # The line the last chunk ended in, alone: joining it to this chunk
                    # would copy the whole chunk.
                    start = chunk.find(b"\n") + 1
                    head = rest + chunk[: start - 1]
                    yield _make_batch(index, first, _split_lines(head))
                    first += 1
                if start <= cut:
                    lines = _split_lines(memoryview(chunk)[start:cut])
                    yield _make_batch(index, first, lines)
                    first += len(lines)
                rest = chunk[cut + 1 :]
                if len(rest) > MAX_LINE_BYTES:
                    yield self._oversized(index, first, rest)
                    first += 1
                    rest, skipping = b"", True
            if rest and not skipping:
                yield _make_batch(index, first, _split_lines(rest))

    @staticmethod
    def _oversized(index: int, first: int, start: bytes) -> Any:
        _, pa = require()
        return _make_batch(
            index,
            first,
            pa.array([start[:200]], pa.large_binary()),
            problems=pa.array(
                [f"torn: longer than {MAX_LINE_BYTES:,} bytes, skipped"], pa.large_string()
            ),
        )


@dataclasses.dataclass(frozen=True)
class _Cut:
    """A compressed file's data ends early (still being written, or damaged)."""

    why: str


def _chunks(raw: Any, gzipped: bool) -> Iterator[bytes | _Cut]:
    """The file's (decompressed) bytes in pieces of about ``CHUNK_BYTES``.

    A gzip stream cut short yields everything it held, then a ``_Cut``.
    """
    if not gzipped:
        while chunk := raw.read(CHUNK_BYTES):
            yield chunk
        return
    stream = gzip.GzipFile(fileobj=raw, mode="rb")
    pieces: list[bytes] = []
    size = 0
    while True:
        try:
            # read1 returns what one read of the file gave, so a cut loses nothing before it.
            piece = stream.read1(CHUNK_BYTES)
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            if pieces:
                yield b"".join(pieces)
            yield _Cut(f"compressed data ends early ({type(err).__name__})")
            return
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(pieces)
            pieces, size = [], 0
    if pieces:
        yield b"".join(pieces)


def _split_lines(block: bytes | memoryview) -> Any:
    """The lines of ``block`` (whole lines, no trailing newline) as an Arrow binary array."""
    _, pa = require()
    import pyarrow.compute as pc

    # ``block`` becomes a one-element array without a copy, then one C++ pass splits it,
    # instead of a Python list of a million bytes objects.
    offsets = pa.py_buffer(array.array("q", [0, len(block)]))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(block)])
    return pc.split_pattern(whole, b"\n").flatten()


@dataclasses.dataclass
class RedisSource:
    """A Redis stream as ``RedisStreamHandler`` writes it: an ``event`` field per entry.

    Reads the entries present when reading starts (later ones are left for the next
    export), oldest first.
    """

    url: str  # without the fragment, credentials included: never printed
    stream: str
    name: str  # what reports show: no credentials

    @classmethod
    def parse(cls, text: str) -> RedisSource:
        parts = urllib.parse.urlsplit(text)
        stream = urllib.parse.unquote(parts.fragment) or DEFAULT_STREAM
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return cls(
            url=urllib.parse.urlunsplit(parts._replace(fragment="")),
            stream=stream,
            name=f"{shown}#{stream}",
        )

    def _client(self) -> Any:
        try:
            import redis
        except ImportError:
            raise MissingExtraError(
                "Reading a Redis stream needs the redis client, which is not installed: "
                "pip install 'jupyter_events_ext[redis]'"
            ) from None
        try:
            return redis.Redis.from_url(self.url, socket_timeout=30, socket_connect_timeout=10)
        except ValueError as err:
            raise SourceError(f"{self.name}: not a Redis URL ({err})") from None

    def check(self) -> None:
        client = self._client()
        import redis

        try:
            with client:
                kind = client.type(self.stream)
        except redis.RedisError as err:
            raise SourceError(f"{self.name}: Redis did not answer ({err})") from None
        if kind == b"none":
            raise SourceNotFound(f"{self.name}: no stream {self.stream!r} in this database")
        if kind != b"stream":
            raise SourceError(f"{self.name}: {self.stream!r} is a {kind.decode()}, not a stream")

    def size(self) -> int | None:
        """Progress is counted in stream entries; None if Redis does not say."""
        import redis

        try:
            with self._client() as client:
                return int(client.xlen(self.stream))
        except redis.RedisError:
            return None  # reading will fail with a clear error, if it fails at all

    def batches(self, index: int, advance: Advance) -> Iterator[Any]:
        client = self._client()
        import redis

        try:
            yield from self._batches(client, index, advance)
        except redis.RedisError as err:
            raise SourceError(f"{self.name}: reading the stream failed ({err})") from None
        finally:
            client.close()

    def _batches(self, client: Any, index: int, advance: Advance) -> Iterator[Any]:
        _, pa = require()
        newest = client.xrevrange(self.stream, count=1)
        if not newest:
            return
        end = newest[0][0]
        after = b"-"
        first = 1
        while True:
            entries = client.xrange(self.stream, min=after, max=end, count=STREAM_BATCH)
            if not entries:
                break
            ids, lines, problems = [], [], []
            for entry_id, fields in entries:
                ids.append(entry_id.decode())
                event = fields.get(b"event")
                lines.append(event if event is not None else b"")
                problems.append(None if event is not None else "foreign: no event field")
            yield _make_batch(
                index,
                first,
                pa.array(lines, pa.large_binary()),
                entries=ids,
                problems=pa.array(problems, pa.large_string()),
            )
            first += len(entries)
            advance(len(entries))
            if entries[-1][0] == end:
                break
            after = b"(" + entries[-1][0]


Source = Union[FileSource, RedisSource]


def parse_source(source: SourceLike) -> Source:
    """A ``FileSource`` for a path, a ``RedisSource`` for a ``redis://`` (etc.) URL."""
    if isinstance(source, str) and _REDIS_URL.match(source):
        return RedisSource.parse(source)
    return FileSource(pathlib.Path(source))


def sink_files(directory: pathlib.Path) -> list[FileSource]:
    """The JSON-lines sink files in ``directory``: ``events*.jsonl*`` but ``*.torn``."""
    files = [
        FileSource(path)
        for path in sorted(directory.glob(f"{SINK_FILE_PREFIX}*.jsonl*"))
        if not path.name.endswith(".torn") and path.is_file()
    ]
    if not files:
        raise SourceNotFound(
            f"{directory}: a directory without {SINK_FILE_PREFIX}*.jsonl files; "
            "pass the files to read instead"
        )
    return files


def parse_sources(sources: SourceLike | Iterable[SourceLike]) -> list[Source]:
    """Every source, checked: a missing file or an unreachable Redis raises here; a
    directory stands for the sink files in it."""
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    parsed: list[Source] = []
    for source in sources:
        one = parse_source(source)
        is_directory = isinstance(one, FileSource) and one.path.is_dir()
        parsed.extend(sink_files(one.path) if is_directory else [one])  # type: ignore[union-attr]
    if not parsed:
        raise SourceError("no source given: pass at least one file or redis:// URL")
    for source in parsed:
        source.check()
    return parsed
