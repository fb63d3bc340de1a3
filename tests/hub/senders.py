"""Clients that send events to a user's server through the hub's proxy, with a hub token,
as the browser does: each batch again, with the same ids, until the server accounts for
it; what was acknowledged, and when, is kept for the checks."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import requests
import websocket
from deployment import Server

COMMAND_SCHEMA = "https://events.jupyter.org/jupyter_events_ext/command/v1"
# A client gives up on a batch after this long; more is an outage the test should report.
RETRY_FOR = 180.0
LONGEST_PAUSE = 1.0  # between attempts, growing from 50 ms


class Refused(RuntimeError):
    """The server refused a batch it should have taken (a 400 or 413)."""


def command_events(label: str, start: int, count: int) -> list[dict[str, Any]]:
    """``count`` events of the shipped command schema, each with a client id and the time
    it was made, numbered from ``start``."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        {
            "schema_id": COMMAND_SCHEMA,
            "version": 1,
            "data": {"command_id": f"hub-test:{label}:{start + i}"},
            "id": str(uuid.uuid4()),
            "timestamp": now,
        }
        for i in range(count)
    ]


def body_of(events: list[dict[str, Any]]) -> str:
    """One event alone, as ``POST events`` takes it, or a batch."""
    return json.dumps(events[0] if len(events) == 1 else {"events": events})


def http_url(server: Server, route: str) -> str:
    return f"{server.url}jupyter-events-ext/{route}"


def ws_url(server: Server, route: str) -> str:
    return http_url(server, route).replace("http://", "ws://", 1)


class Sender:
    """Sends batches to one server, by ``POST events`` or on the events socket."""

    def __init__(self, server: Server, token: str, transport: str) -> None:
        assert transport in ("post", "socket")
        self.server = server
        self.token = token
        self.transport = transport
        self.first_sent: dict[str, float] = {}  # client id -> time.time() of its first send
        self.acknowledged: dict[str, float] = {}  # client id -> when it was acknowledged
        self.sends: Counter[str] = Counter()  # client id -> times sent
        # Attempts that did not get the batch accounted for, by what answered them: a
        # status, or the exception's name.
        self.failures: Counter[str] = Counter()
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"token {token}"
        self._socket: websocket.WebSocket | None = None

    def send(self, events: list[dict[str, Any]]) -> None:
        """Send ``events`` until the server accounts for every one of them."""
        body = body_of(events)
        ids = [event["id"] for event in events]
        now = time.time()
        for event_id in ids:
            self.first_sent.setdefault(event_id, now)
        deadline = time.monotonic() + RETRY_FOR
        pause = 0.05
        while True:
            self.sends.update(ids)
            try:
                status, reply = self._attempt(body)
            except (OSError, requests.RequestException, websocket.WebSocketException) as err:
                status, reply = None, err
                self.close()
            if status is not None and 200 <= status < 300:
                self._account(ids, status, reply)
                return
            if status in (400, 413):
                raise Refused(f"{self.server}: {status} {str(reply)[:500]}")
            # As the browser does: the same batch again, whatever answered instead of the
            # server (while a server is away the hub answers for it: a 403 for a POST,
            # which lacks the hub's XSRF token; a redirect, then 424, for a socket).
            self.failures[type(reply).__name__ if status is None else str(status)] += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.server}: no answer for {RETRY_FOR} s: {reply!r:.500}")
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def _attempt(self, body: str) -> tuple[int, Any]:
        if self.transport == "post":
            response = self._session.post(
                http_url(self.server, "events"),
                data=body,
                headers={"Content-Type": "application/json"},
                allow_redirects=False,  # a redirect is the hub's: the server is not there
                timeout=60,
            )
            try:
                reply = response.json() if response.content else None
            except ValueError:
                reply = response.text
            return response.status_code, reply
        if self._socket is None:
            self._socket = websocket.create_connection(
                ws_url(self.server, "events/socket"),
                header=[f"Authorization: token {self.token}"],
                timeout=60,
            )
        self._socket.send(body)
        answer = json.loads(self._socket.recv())
        return answer["status"], answer

    def _account(self, ids: list[str], status: int, reply: Any) -> None:
        now = time.time()
        if status == 204 or (isinstance(reply, dict) and reply.get("status") == 204):
            refused: set[int] = set()
        else:
            refused = {entry["index"] for entry in reply["rejected"]}
            if reply["accepted"] + reply["duplicates"] + len(refused) != len(ids):
                raise AssertionError(
                    f"{self.server}: the answer does not account for the batch: {reply}"
                )
            if refused:
                raise Refused(f"{self.server}: events refused: {reply['rejected'][:3]}")
        for event_id in ids:
            self.acknowledged.setdefault(event_id, now)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
