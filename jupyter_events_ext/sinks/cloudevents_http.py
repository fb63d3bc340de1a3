"""A logging handler that POSTs event envelopes, as CloudEvents, to an HTTP endpoint.

Each batch is one ``POST`` of a JSON array of structured-mode CloudEvents
(``Content-Type: application/cloudevents-batch+json``, the CloudEvents HTTP binding's
batched mode); see ``cloudevents.py`` for how an envelope maps to a CloudEvent. Only the
standard library's ``http.client`` is used, over one kept-alive connection.

Records wait in the bounded queue of a ``BatchingHandler`` (``batching.py``), the same
machinery as the Redis handler's: ``emit`` never waits for the network; a batch that
fails is sent again, with backoff, until it gets a 2xx answer, except one refused for good
(a 4xx other than 408, 425 and 429), which goes to the dead-letter file; a full queue
drops the oldest events, counted and warned about; ``close()`` returns within
``flush_timeout``.

Delivery is at least once: a batch whose 2xx answer was lost (connection broken, the
receiver failed after storing it) is sent again, whole. Each event keeps its ``id``
across these retries (the client id, or a UUID made when it was queued), so a receiver
that deduplicates by ``source`` and ``id`` records each event exactly once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

from .batching import BatchingHandler, BatchRefused
from .cloudevents import BATCH_CONTENT_TYPE, DEFAULT_SOURCE, CloudEventFormat

# Of an answer's body, what a warning quotes at most.
_QUOTED_ANSWER = 200
# The 4xx answers that a later attempt may change (timeout, too early, rate limit); any
# other 4xx refuses the batch itself, for good.
_RETRYABLE_4XX = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """The endpoint answered with a status other than 2xx."""

    def __init__(self, status: int, reason: str, answer: bytes) -> None:
        text = answer[:_QUOTED_ANSWER].decode("utf-8", "replace").strip()
        super().__init__(f"HTTP {status} {reason}" + (f": {text}" if text else ""))
        self.status = status


class RefusedDelivery(DeliveryError, BatchRefused):
    """The endpoint answered a 4xx that no retry changes: the batch goes to the dead-letter
    file."""


class CloudEventsHTTPHandler(BatchingHandler[str]):
    """POST batches of events, as CloudEvents, to an HTTP(S) endpoint, never making the
    emitter wait.

    Parameters
    ----------
    url
        The endpoint, ``http://`` or ``https://`` (certificates checked as
        ``ssl.create_default_context()`` does).
    source
        The CloudEvents ``source``, a template that may name ``{username}``,
        ``{server}`` and ``{hostname}``. Default ``/hub/user/{username}/{server}``.
    headers
        More request headers, e.g. ``{"Authorization": "Bearer …"}``. Default none.
    batch_size
        The most events in one request. Default 100.
    queue_size
        The most events waiting in this process while the endpoint is slow or
        unreachable; beyond it the oldest are dropped (see ``dropped``). Default 100,000.
    flush_timeout
        How long ``flush()`` waits by default, and the most ``close()`` takes in all, in
        seconds. Default 5.
    timeout
        How long connecting, or waiting for an answer, may take, in seconds. Default 10.
    dead_letter_path
        Where a batch the endpoint refuses for good (a 4xx other than 408, 425 and 429)
        is written, one JSON line per CloudEvent (see ``BatchingHandler``). Default None:
        such a batch is dropped, counted in ``dropped``.
    level
        The handler's logging level.
    """

    def __init__(
        self,
        url: str,
        *,
        source: str = DEFAULT_SOURCE,
        headers: Mapping[str, str] | None = None,
        batch_size: int = 100,
        queue_size: int = 100_000,
        flush_timeout: float = 5.0,
        timeout: float = 10.0,
        dead_letter_path: str | None = None,
        level: int | str = logging.NOTSET,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http:// or https:// URL, not {url!r}")
        super().__init__(
            batch_size=batch_size,
            queue_size=queue_size,
            flush_timeout=flush_timeout,
            dead_letter_path=dead_letter_path,
            level=level,
        )
        self.url = url
        self.format_cloudevent = CloudEventFormat(source)
        self.timeout = timeout
        self._parts = parts
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": BATCH_CONTENT_TYPE, **(headers or {})}
        self._connection: http.client.HTTPConnection | None = None

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of every event, its template filled in."""
        return self.format_cloudevent.source

    def _entry(self, record: logging.LogRecord) -> str:
        # The CloudEvent is made here, once: a generated id stays the same in retries.
        envelope = record.msg
        if isinstance(envelope, str) and envelope.startswith("{"):
            envelope = json.loads(envelope)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("__schema__"), str):
            # Reported by logging's handleError, as any record a handler cannot write.
            raise ValueError(f"not an event envelope: {self.format(record)[:100]!r}")
        return json.dumps(self.format_cloudevent.event(envelope), separators=(",", ":"))

    def _send(self, batch: list[str]) -> None:
        body = ("[" + ",".join(batch) + "]").encode("utf-8")
        connection = self._connection
        if connection is None:
            connection = self._connection = self._connect()
        try:
            connection.request("POST", self._target, body=body, headers=self._headers)
            response = connection.getresponse()
            answer = response.read()
        except BaseException:
            # Whatever state the connection is in, the next attempt starts afresh.
            self._connection = None
            connection.close()
            raise
        if response.will_close:
            self._connection = None
            connection.close()
        if 400 <= response.status < 500 and response.status not in _RETRYABLE_4XX:
            raise RefusedDelivery(response.status, response.reason, answer)
        if not 200 <= response.status < 300:
            raise DeliveryError(response.status, response.reason, answer)

    def _entry_json(self, entry: str) -> str:
        return entry  # the CloudEvent's JSON text already

    def _connect(self) -> http.client.HTTPConnection:
        parts = self._parts
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        return kind(parts.hostname, parts.port, timeout=self.timeout)

    def _where(self) -> str:
        # Neither credentials nor the query, which may hold a token, end up in logs.
        parts = self._parts
        port = f":{parts.port}" if parts.port else ""
        return f"CloudEvents endpoint {parts.scheme}://{parts.hostname}{port}{parts.path}"

    def _abort(self) -> None:
        # Shutting the socket down wakes the sender from a request in progress.
        connection = self._connection
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile
                sock.shutdown(socket.SHUT_RDWR)

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
