"""Running an EventLogger's listeners: plain functions at once, coroutines on a loop."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import threading
from typing import Any, Callable

Listener = Callable[..., Any]
Call = tuple[Listener, Any]  # a listener and the data it is given


class ListenerScheduler:
    """Calls listeners after an event is written and runs the coroutines they return.

    A coroutine runs as a task on the emitting thread's running loop. Emitted from a
    thread without one, it runs as a task on the loop the logger last saw running (a
    server's); with none either, the emit waits for it to complete on a background loop
    that all such emits share, so that no emit creates and closes a loop of its own.
    Failures are logged, never raised.
    """

    def __init__(self, owner: Any) -> None:
        self._owner = owner  # the EventLogger: passed to listeners, and its log used
        self._last_loop: asyncio.AbstractEventLoop | None = None
        # The listener tasks still running.
        self.tasks: set[asyncio.Future[Any]] = set()

    def remember_loop(self) -> None:
        """Note the running loop, if any, as the one for emits from loopless threads."""
        with contextlib.suppress(RuntimeError):
            self._last_loop = asyncio.get_running_loop()

    def notify(self, schema_id: str, calls: list[Call]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._last_loop = loop
            self._start(schema_id, calls)
            return
        loop = self._last_loop
        if loop is not None and loop.is_running():
            try:
                loop.call_soon_threadsafe(self._start, schema_id, calls)
                return
            except RuntimeError:  # closed between the check and the call
                pass
        self._run_to_completion(schema_id, calls)

    async def gather(self) -> list[Any]:
        """Wait for the coroutines started so far; return their results or exceptions."""
        return await asyncio.gather(*self.tasks, return_exceptions=True)

    def _call(self, listener: Listener, schema_id: str, data: Any) -> Any:
        try:
            return listener(logger=self._owner, schema_id=schema_id, data=data)
        except Exception as err:
            self._log_failure(listener, schema_id, err)
            return None

    def _start(self, schema_id: str, calls: list[Call]) -> None:
        """Call the listeners on the running loop; their coroutines become tasks."""
        for listener, data in calls:
            result = self._call(listener, schema_id, data)
            if not inspect.isawaitable(result):
                continue
            task = asyncio.ensure_future(result)
            self.tasks.add(task)
            task.add_done_callback(
                lambda task, listener=listener: self._task_done(task, listener, schema_id)
            )

    def _task_done(self, task: asyncio.Future[Any], listener: Listener, schema_id: str) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log_failure(listener, schema_id, task.exception())

    def _run_to_completion(self, schema_id: str, calls: list[Call]) -> None:
        """Call the listeners in this thread and wait for their coroutines, which run on
        the shared background loop."""
        awaitables = []
        for listener, data in calls:
            result = self._call(listener, schema_id, data)
            if inspect.isawaitable(result):
                awaitables.append((listener, result))
        if not awaitables:
            return

        async def run_all() -> list[Any]:
            return await asyncio.gather(
                *(result for _, result in awaitables), return_exceptions=True
            )

        results = asyncio.run_coroutine_threadsafe(run_all(), _background_loop()).result()
        for (listener, _), result in zip(awaitables, results):
            if isinstance(result, BaseException):
                self._log_failure(listener, schema_id, result)

    def _log_failure(self, listener: Listener, schema_id: str, err: BaseException | None) -> None:
        self._owner.log.error(
            "Event listener %r failed for %s: %s", listener, schema_id, err, exc_info=err
        )


_background: list[asyncio.AbstractEventLoop] = []  # at most one, started on first need
_background_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    with _background_lock:
        if not _background:
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name="EventLogger listeners", daemon=True
            ).start()
            _background.append(loop)
        return _background[0]


def _forget_background_loop() -> None:
    # Its thread did not survive the fork (nor, maybe, the lock's holder); the child
    # starts its own loop when it needs one.
    global _background_lock
    _background.clear()
    _background_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_background_loop)
