"""The WebSocket at ``{base_url}jupyter-events-ext/events/socket``: ``POST events``, message
by message, without the cost of an HTTP request for each."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized, ws_authenticated
from tornado import web, websocket

from .event_shape import EventRejected
from .ingest import record_body
from .metrics import EVENTS_SOCKET_ANSWERS, EVENTS_SOCKETS
from .sockets import JsonRefusingWebSocket

if TYPE_CHECKING:
    from .ingest import Limits
    from .recorder import ClientEventRecorder

# RFC 6455's "try again later", for a socket over the limit that raced past the check.
CLOSE_TRY_AGAIN_LATER = 1013

# Beyond this many times max_body_size, tornado closes the socket (code 1009) rather than
# read the message; up to it, an oversized message is answered 413 like an oversized POST.
OVERSIZE_READ = 2


class UserSockets:
    """How many events sockets each user has open, and the most one may (``limit``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open_for(self, user: str) -> int:
        return self._open[user]

    def refusal(self, user: str) -> str | None:
        """Why ``user`` may open no more, or None if they may."""
        if self._open[user] < self.limit:
            return None
        return (
            f"this user has its maximum of {self.limit} events sockets open: "
            "close one, or send by POST events"
        )

    def add(self, user: str) -> None:
        self._open[user] += 1

    def remove(self, user: str) -> None:
        self._open[user] -= 1
        if not self._open[user]:
            del self._open[user]


class EventsWebSocket(JsonRefusingWebSocket):
    """Each text message is a body ``POST events`` takes: one event, or a batch
    ``{"events": [...]}``. Each is answered by one message, in the order received:
    ``{"status": S, ...}``, with the status and the fields the POST would answer, once
    every sink has what it recorded. The next message is read once the answer is
    written: a client that does not read its answers is not read either."""

    _counted = False  # in the open-sockets gauge (a refused upgrade never is)

    def initialize(
        self, recorder: ClientEventRecorder, limits: Limits, sockets: UserSockets
    ) -> None:
        self.recorder = recorder
        self.limits = limits
        self.sockets = sockets

    @ws_authenticated
    @authorized("write")
    async def get(self, *args: Any, **kwargs: Any) -> None:
        self.check_upgrade()
        refusal = self.sockets.refusal(self.current_user.username)
        if refusal is not None:
            raise web.HTTPError(429, refusal)
        await super().get(*args, **kwargs)

    @property
    def max_message_size(self) -> int:
        return OVERSIZE_READ * self.limits.max_body_size

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        self._user = self.current_user.username
        refusal = self.sockets.refusal(self._user)
        if refusal is not None:  # others opened since get() checked
            self.close(CLOSE_TRY_AGAIN_LATER, refusal)
            return
        self.sockets.add(self._user)
        EVENTS_SOCKETS.inc()
        self._counted = True

    def on_close(self) -> None:
        if self._counted:
            self.sockets.remove(self._user)
            EVENTS_SOCKETS.dec()
            self._counted = False
        super().on_close()

    async def on_message(self, message: str | bytes) -> None:
        answer = self._answer(message)
        _answers(answer["status"]).inc()
        # As every API request does (POST events included): JupyterHub's idle culler reads
        # it, and a browser sending events one way is as active as one sending them the other.
        self.settings["api_last_activity"] = datetime.now(timezone.utc)
        # Gone before its answer: the client sends the events again, as duplicates.
        with contextlib.suppress(websocket.WebSocketClosedError):
            await self.write_message(json.dumps(answer))

    def _answer(self, message: str | bytes) -> dict[str, Any]:
        if isinstance(message, bytes):
            return {"status": 400, "message": "send events in text messages, not binary ones"}
        size = len(message) if message.isascii() else len(message.encode())
        try:
            account = record_body(
                self.recorder, message, size=size, user=self._user, limits=self.limits
            )
        except EventRejected as err:
            return {"status": err.status, "message": str(err)}
        if account.failure is not None:
            self.log.error("jupyter_events_ext: %s", account.failure)
        return {"status": account.status, **(account.reply or {})}


_answer_counters: dict[int, Any] = {}


def _answers(status: int) -> Any:
    """The answer counter of ``status``, looked up once."""
    counter = _answer_counters.get(status)
    if counter is None:
        counter = _answer_counters[status] = EVENTS_SOCKET_ANSWERS.labels(str(status))
    return counter


default_handlers = [(r"/jupyter-events-ext/events/socket", EventsWebSocket)]
