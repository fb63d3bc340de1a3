"""The machinery every network sink shares: a bounded queue, one background sender, retries.

A ``BatchingHandler`` never makes the emitter wait for the network. ``emit`` turns the
record into an entry and puts it in a bounded in-process queue; one background thread
takes up to ``batch_size`` entries at a time and hands them to the subclass's ``_send``,
which makes one round trip and raises if the batch did not get there. A failed batch goes
back to the front of the queue and is sent again after a backoff delay (50 ms doubling up
to 2 s, with jitter), for as long as it takes. When the queue is full, the oldest entries
are dropped, counted (``dropped``) and warned about, at most once per 10 s.

A batch the destination refuses for good (``_send`` raises ``BatchRefused``: an HTTP
4xx such as 400 or 413, which no retry changes) is not sent again, where it would block
every event behind it until the queue overflowed: it goes to the dead-letter file
(``dead_letter_path``), one JSON line per event, counted (``dead_lettered``) and warned
about; without a file, it is dropped, counted in ``dropped`` and warned about.

``close()`` sends what waits for at most ``flush_timeout`` seconds *in all*: at that
deadline it cuts a round trip in progress short (the subclass's ``_abort``), counts what
was not sent (``pending``) and warns about it.

Subclasses implement ``_entry`` (in the emitting thread), ``_send`` (in the sender
thread), ``_where`` (for messages), and may implement ``_abort``, ``_release`` and
``_entry_json`` (an entry as JSON text, for the dead-letter file).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Entry = TypeVar("Entry")

# Retry delays grow from the first to the last, with jitter so that the servers of a whole
# hub do not all come back in the same instant.
FIRST_RETRY_DELAY = 0.05
LAST_RETRY_DELAY = 2.0
# At most one warning about dropped events per this many seconds.
DROP_WARNING_INTERVAL = 10.0
# The part of flush_timeout that close() keeps, at most, for cutting a round trip short
# and letting the sender notice: the rest is for sending.
_ABORT_SHARE = 0.2
_MAX_ABORT_GRACE = 0.5


class BatchRefused(Exception):
    """The destination refused a batch and would refuse it again, however often it is
    sent; ``str()`` says what it answered."""


class BatchingHandler(logging.Handler, Generic[Entry]):
    """A logging handler whose records wait in a bounded queue for a background sender.

    Parameters
    ----------
    batch_size
        The most entries sent in one round trip. Default 500.
    queue_size
        The most entries waiting in this process while the destination is slow or
        unreachable; beyond it the oldest are dropped (see ``dropped``). A batch on its
        way is not counted until its send fails and it returns to the queue. Default 100,000.
    flush_timeout
        How long ``flush()`` waits by default, and the most ``close()`` takes in all, in
        seconds, whatever the destination does. Default 5.
    dead_letter_path
        The JSON-lines file (created readable by its owner only) where the events of a
        batch the destination refuses for good are written, one line each:
        ``{"dead_lettered_at", "sink", "reason", "event"}``. Default None: such events
        are dropped (counted in ``dropped``).
    level
        The handler's logging level.
    """

    def __init__(
        self,
        *,
        batch_size: int = 500,
        queue_size: int = 100_000,
        flush_timeout: float = 5.0,
        dead_letter_path: str | os.PathLike[str] | None = None,
        level: int | str = logging.NOTSET,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size!r}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {queue_size!r}")
        if flush_timeout < 0:
            raise ValueError(f"flush_timeout must not be negative, not {flush_timeout!r}")
        super().__init__(level)
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.flush_timeout = flush_timeout
        self.dead_letter_path = None if dead_letter_path is None else os.fspath(dead_letter_path)
        self._reset_state()
        _LIVE_HANDLERS.add(self)

    def _reset_state(self) -> None:
        self._queue: collections.deque[Entry] = collections.deque()
        self._queue_lock = threading.Lock()
        self._progress = threading.Condition(threading.Lock())
        self._wakeup = threading.Event()
        self._closing = threading.Event()
        # What emit reads, under the queue lock: a plain attribute costs it less than an Event.
        self._closed = False
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self._accepted = 0
        self._sent = 0
        self._dropped = 0
        self._dead_lettered = 0
        self._in_flight = 0
        self._dropped_reported = 0
        self._last_drop_warning = float("-inf")
        self._failing_since: float | None = None

    # -- what a caller may ask -------------------------------------------------------

    @property
    def dropped(self) -> int:
        """How many events were dropped because the queue was full."""
        return self._dropped

    @property
    def dead_lettered(self) -> int:
        """How many events went to the dead-letter file: the destination refused them."""
        return self._dead_lettered

    @property
    def sent(self) -> int:
        """How many events the destination has acknowledged."""
        return self._sent

    @property
    def pending(self) -> int:
        """How many events wait to be sent, a batch on its way included; after close(),
        how many were never acknowledged (neither sent nor counted as dropped or
        dead-lettered)."""
        return self._accepted - self._sent - self._dropped - self._dead_lettered

    # -- logging.Handler -------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = self._entry(record)
        except Exception:
            self.handleError(record)
            return
        with self._queue_lock:
            self._accepted += 1
            if self._closed:
                self._reopen()
            queue = self._queue
            if len(queue) >= self.queue_size:
                queue.popleft()
                self._dropped += 1
            queue.append(entry)
        if self._sender is None:
            self._start_sender()
        # Setting an Event takes a lock; skip it while the sender is already awake.
        if not self._wakeup.is_set():
            self._wakeup.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far is sent or dropped.

        Waits at most ``timeout`` seconds (``flush_timeout`` when ``None``); returns
        whether everything got there.
        """
        if timeout is None:
            timeout = self.flush_timeout
        target = self._accepted
        if self._settled() >= target:
            return True
        if self._sender is None or not self._sender.is_alive():
            return False
        with self._progress:
            return self._progress.wait_for(lambda: self._settled() >= target, timeout=timeout)

    def _settled(self) -> int:
        """How many events emitted so far have left the queue for good."""
        return self._sent + self._dropped + self._dead_lettered

    def close(self) -> None:
        """Send what waits, then stop: returns within ``flush_timeout`` seconds.

        Whatever is not acknowledged by then stays counted in ``pending`` and is named in
        a warning; a batch whose round trip was cut short may still have arrived.
        """
        if not self._closing.is_set():
            started = time.monotonic()
            deadline = started + self.flush_timeout
            with self._queue_lock:
                self._closed = True
                self._closing.set()
            self._wakeup.set()
            sender = self._sender
            cut_short = 0
            if sender is not None and sender.is_alive():
                grace = min(_MAX_ABORT_GRACE, self.flush_timeout * _ABORT_SHARE)
                sender.join(max(0.0, deadline - grace - time.monotonic()))
                self._stop.set()
                if sender.is_alive():
                    # The destination may have taken this batch and only its answer be lost.
                    cut_short = self._in_flight
                    self._abort()
                    sender.join(max(0.0, deadline - time.monotonic()))
            self._stop.set()
            unsent = self.pending
            if unsent:
                log.warning(
                    "Closing the %s with %d events not sent%s",
                    self._where(),
                    unsent,
                    f" ({cut_short} in a batch whose round trip was cut short: they may "
                    "have arrived)"
                    if cut_short
                    else "",
                )
            self._warn_about_drops(force=True)
            self._release()
            _LIVE_HANDLERS.discard(self)
        super().close()

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<{type(self).__name__} {self._where()} ({level})>"

    # -- for subclasses --------------------------------------------------------------

    def _entry(self, record: logging.LogRecord) -> Entry:
        """What waits in the queue for ``record``; runs in the emitting thread."""
        raise NotImplementedError

    def _send(self, batch: list[Entry]) -> None:
        """Deliver ``batch`` in one round trip, raising if it did not get there."""
        raise NotImplementedError

    def _where(self) -> str:
        """Where events go, for messages; never with a password in it."""
        raise NotImplementedError

    def _entry_json(self, entry: Entry) -> str:
        """``entry`` as JSON text, for the dead-letter file."""
        return json.dumps(entry)

    def _abort(self) -> None:
        """Cut a round trip in progress short (called from close(), another thread)."""

    def _release(self) -> None:
        """Close connections, once the sender has stopped or been given up on."""

    def _reopen(self) -> None:
        """Start over after ``close()``, as a ``FileHandler`` reopens its file: logging
        configuration (``logging.config.dictConfig``, which traitlets applications such as
        Jupyter Server run after reading their config files) closes every handler there
        is, the ones those files just made included. Called with the queue lock held."""
        self._closed = False
        # New events: a sender that close() gave up on keeps the old ones, and stops.
        self._closing = threading.Event()
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._sender = None
        _LIVE_HANDLERS.add(self)

    # -- the sender ------------------------------------------------------------------

    def _start_sender(self) -> None:
        with self._queue_lock:
            if self._sender is not None:
                return
            self._sender = threading.Thread(
                target=self._send_forever, name=f"{type(self).__name__}-sender", daemon=True
            )
        self._sender.start()

    def _take(self) -> list[Entry]:
        with self._queue_lock:
            queue = self._queue
            return [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]

    def _put_back(self, batch: list[Entry]) -> None:
        """Put an unsent batch back in front of the queue, dropping the oldest past the bound."""
        with self._queue_lock:
            overflow = len(self._queue) + len(batch) - self.queue_size
            if overflow > 0:
                del batch[:overflow]
                self._dropped += overflow
            self._queue.extendleft(reversed(batch))
        if overflow > 0:
            with self._progress:
                self._progress.notify_all()

    def _send_forever(self) -> None:
        failures = 0
        # This sender's own: after close() and a reopen, a new sender gets new ones.
        stop, closing, wakeup = self._stop, self._closing, self._wakeup
        while not stop.is_set():
            # Cleared before taking, so an event emitted after the take wakes the next wait.
            wakeup.clear()
            batch = self._take()
            if not batch:
                if closing.is_set():
                    return
                self._warn_about_drops()
                # Wake up now and then, to report drops even when nothing else happens.
                wakeup.wait(DROP_WARNING_INTERVAL)
                continue
            self._in_flight = len(batch)
            try:
                self._send(batch)
            except BatchRefused as err:
                self._set_aside(batch, err)
                continue
            except Exception as err:
                self._put_back(batch)
                self._in_flight = 0
                if stop.is_set():
                    return  # close() cut it short and has said what was not sent
                self._note_failure(err)
                failures += 1
                delay = min(LAST_RETRY_DELAY, FIRST_RETRY_DELAY * 2 ** min(failures, 16))
                stop.wait(delay * random.uniform(0.5, 1.0))
                self._warn_about_drops()
                continue
            if failures:
                failures = 0
                self._note_recovery()
            with self._progress:
                self._sent += len(batch)
                self._in_flight = 0
                self._progress.notify_all()

    def _set_aside(self, batch: list[Entry], err: BatchRefused) -> None:
        """Write a refused batch to the dead-letter file (or drop it), counted and warned
        about, so that the events behind it go on."""
        where = self.dead_letter_path
        if where is not None:
            try:
                _append_dead_letters(where, self._where(), str(err), map(self._entry_json, batch))
            except OSError as write_error:
                log.error("Cannot write to the dead-letter file %s: %s", where, write_error)
                where = None
        with self._progress:
            if where is None:
                self._dropped += len(batch)
            else:
                self._dead_lettered += len(batch)
            self._in_flight = 0
            self._progress.notify_all()
        log.warning(
            "The %s refused %d events for good (%s): %s",
            self._where(),
            len(batch),
            err,
            f"written to {where}" if where is not None else "dropped (no dead_letter_path)",
        )

    def _note_failure(self, err: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning(
                "Cannot send events to the %s (%s); they wait in a queue of up to %d "
                "and will be sent when it answers",
                self._where(),
                err,
                self.queue_size,
            )

    def _note_recovery(self) -> None:
        if self._failing_since is not None:
            log.warning(
                "Sending events to the %s again after %.1f s",
                self._where(),
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None

    def _warn_about_drops(self, force: bool = False) -> None:
        dropped = self._dropped
        new = dropped - self._dropped_reported
        now = time.monotonic()
        if new and (force or now - self._last_drop_warning >= DROP_WARNING_INTERVAL):
            self._dropped_reported = dropped
            self._last_drop_warning = now
            log.warning(
                "Dropped %d events for the %s: its queue of %d was full (%d dropped in all)",
                new,
                self._where(),
                self.queue_size,
                dropped,
            )

    def _after_fork_in_child(self) -> None:
        # The sender thread did not survive the fork, its locks may be held by it, and
        # what waits in the queue is the parent's to send.
        self._reset_state()


def _append_dead_letters(path: str, sink: str, reason: str, events: Iterable[str]) -> None:
    """Append one line per event to ``path``, in one write, synced; the file and any
    directory made for it are their owner's only (events hold what users did)."""
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    head = json.dumps({"dead_lettered_at": now, "sink": sink, "reason": reason})[:-1]
    text = "".join(f'{head}, "event": {event}}}\n' for event in events)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


_LIVE_HANDLERS: weakref.WeakSet[BatchingHandler] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for handler in list(_LIVE_HANDLERS):
        handler._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
