"""Prometheus metrics of the server extension, served by jupyter_server's ``/metrics``.

Every name starts with ``jupyter_events_ext_``. The counters are created once per
process, at import, in prometheus_client's default registry (the one ``/metrics``
serves), as jupyter_server creates its own: several servers in one process (pytest-jupyter
starts one per test) count into the same counters instead of registering a name twice,
which raises. What is read on scrape (the live stream, the sinks' queues) comes from one
collector, also registered once, that asks every server running in this process.

Label values are bounded: ``schema`` is a registered schema ``$id`` (or ``(unregistered)``),
never a string a client made up; ``sink`` is a configured sink's description, clipped.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..events.errors import SinkError
from ..events.handlers import describe_handler
from ..sinks.batching import BatchingHandler
from .event_shape import EventRejected
from .recorder import ClientEventRecorder

if TYPE_CHECKING:
    from .stream import EventStream

PREFIX = "jupyter_events_ext_"
# The schema label of a rejected event whose schema_id is not a registered $id: a client
# must not be able to add label values (and series) by posting made-up ids.
UNREGISTERED = "(unregistered)"
# The longest sink label; a longer description keeps its start and its end.
MAX_SINK_LABEL = 80

EVENTS_RECORDED = Counter(
    f"{PREFIX}events_recorded",
    "Events posted by clients and recorded (written by every sink), by schema $id. "
    "jupyter_server's own events, forwarded, are not counted.",
    ["schema"],
)
EVENTS_REJECTED = Counter(
    f"{PREFIX}events_rejected",
    "Events posted by clients and rejected (malformed, invalid, not allowed, too big), by "
    f"schema $id; {UNREGISTERED} when the schema_id is not registered.",
    ["schema"],
)
EVENTS_DEDUPLICATED = Counter(
    f"{PREFIX}events_deduplicated",
    "Events posted by clients with an id already recorded, so not recorded again, by schema $id.",
    ["schema"],
)
SINK_WRITE_FAILURES = Counter(
    f"{PREFIX}sink_write_failures",
    "Client events a sink failed to write (the client was answered 503), by sink.",
    ["sink"],
)

EVENTS_SOCKETS = Gauge(
    f"{PREFIX}events_sockets",
    "Events sockets open now: browsers sending events on a WebSocket rather than by POST.",
)
EVENTS_SOCKET_ANSWERS = Counter(
    f"{PREFIX}events_socket_answers",
    "Messages answered on the events socket, by the status of the answer (what jupyter_server's "
    "http_request_duration_seconds counts for POST events).",
    ["status"],
)


def sink_label(sink: logging.Handler) -> str:
    """A short label for ``sink``: where it writes, at most ``MAX_SINK_LABEL`` characters."""
    where = describe_handler(sink)
    if len(where) <= MAX_SINK_LABEL:
        return where
    half = (MAX_SINK_LABEL - 1) // 2
    return f"{where[:half]}…{where[-(MAX_SINK_LABEL - 1 - half) :]}"


class MeteredRecorder(ClientEventRecorder):
    """A ``ClientEventRecorder`` that counts what it records, rejects and deduplicates.

    A subclass rather than lines in ``record``: the recorder stays about recording, and
    counting costs a list append per event and one increment per schema and request (the
    labelled counter of each schema is looked up once, then kept). An event counts as
    recorded when its request's writes are done, as the client is told.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recorded: dict[str, Any] = {}
        self._deduplicated: dict[str, Any] = {}
        self._this_request: list[str] = []  # schema ids recorded in the request under way
        self._counted_failure: SinkError | None = None

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """As ``ClientEventRecorder.request``, counted once its writes are done."""
        self._this_request = recorded = []
        try:
            with super().request():
                yield
        except SinkError as err:
            if err is not self._counted_failure:  # a held write failed, not one event's
                self._count_failures(err)
            raise
        for schema_id, count in collections.Counter(recorded).items():
            self._counter(self._recorded, EVENTS_RECORDED, schema_id).inc(count)

    def record(self, event: Any, *, user: str) -> bool:
        """As ``ClientEventRecorder.record``, counted."""
        try:
            recorded = super().record(event, user=user)
        except EventRejected:
            EVENTS_REJECTED.labels(self._schema_label(event)).inc()
            raise
        except SinkError as err:
            self._count_failures(err)
            self._counted_failure = err  # may pass through request(): counted once
            raise
        # record() returned, so schema_id is a registered $id.
        schema_id = event["schema_id"]
        if recorded:
            self._this_request.append(schema_id)
        else:
            self._counter(self._deduplicated, EVENTS_DEDUPLICATED, schema_id).inc()
        return recorded

    @staticmethod
    def _counter(cache: dict[str, Any], family: Counter, schema_id: str) -> Any:
        counter = cache.get(schema_id)
        if counter is None:
            counter = cache[schema_id] = family.labels(schema_id)
        return counter

    @staticmethod
    def _count_failures(err: SinkError) -> None:
        for sink, _error in err.failures:
            SINK_WRITE_FAILURES.labels(sink_label(sink)).inc()

    def _schema_label(self, event: Any) -> str:
        schema_id = event.get("schema_id") if isinstance(event, dict) else None
        if isinstance(schema_id, str) and schema_id in self.logger.schemas:
            return schema_id
        return UNREGISTERED


class ServerMetrics:
    """What one running server shows on scrape: its live stream and its sinks' queues.

    ``open()`` adds it to what ``/metrics`` reports, ``close()`` takes it away.
    """

    def __init__(self, stream: EventStream, sinks: list[logging.Handler]) -> None:
        self.stream = stream
        self.sinks = list(sinks)

    def open(self) -> None:
        _LIVE.add(self)

    def close(self) -> None:
        _LIVE.discard(self)


class _LiveCollector:
    """Gauges read on scrape from every ``ServerMetrics`` open in this process, summed."""

    def __init__(self) -> None:
        self._servers: weakref.WeakSet[ServerMetrics] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, server: ServerMetrics) -> None:
        with self._lock:
            self._servers.add(server)

    def discard(self, server: ServerMetrics) -> None:
        with self._lock:
            self._servers.discard(server)

    def describe(self) -> Iterator[Metric]:
        # Lets the registry check names at registration without collecting.
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            servers = list(self._servers)
        subscribers = buffered = 0
        depth: dict[str, int] = {}
        dropped: dict[str, int] = {}
        dead_lettered: dict[str, int] = {}
        for server in servers:
            subscribers += server.stream.subscriber_count
            buffered += server.stream.buffered_bytes
            for sink in server.sinks:
                if isinstance(sink, BatchingHandler):
                    label = sink_label(sink)
                    depth[label] = depth.get(label, 0) + sink.pending
                    dropped[label] = dropped.get(label, 0) + sink.dropped
                    dead_lettered[label] = dead_lettered.get(label, 0) + sink.dead_lettered
        families = self._families()
        subscribers_family, buffered_family, depth_family, dropped_family, dead_family = families
        subscribers_family.add_metric([], subscribers)
        buffered_family.add_metric([], buffered)
        for label, value in depth.items():
            depth_family.add_metric([label], value)
        for label, value in dropped.items():
            dropped_family.add_metric([label], value)
        for label, value in dead_lettered.items():
            dead_family.add_metric([label], value)
        yield from families

    @staticmethod
    def _families() -> list[Metric]:
        return [
            GaugeMetricFamily(f"{PREFIX}stream_subscribers", "Live-stream subscribers now."),
            GaugeMetricFamily(
                f"{PREFIX}stream_buffer_bytes",
                "Bytes of events the live stream keeps for resuming subscribers.",
            ),
            GaugeMetricFamily(
                f"{PREFIX}sink_queue_depth",
                "Events waiting in a network sink's queue (Redis, HTTP), by sink.",
                labels=["sink"],
            ),
            CounterMetricFamily(
                f"{PREFIX}sink_events_dropped",
                "Events a network sink dropped because its queue was full (or because the "
                "destination refused them for good and it has no dead-letter file), by sink.",
                labels=["sink"],
            ),
            CounterMetricFamily(
                f"{PREFIX}sink_events_dead_lettered",
                "Events a network sink wrote to its dead-letter file because the destination "
                "refused them for good (an HTTP 4xx such as 400 or 413), by sink.",
                labels=["sink"],
            ),
        ]


_LIVE = _LiveCollector()
REGISTRY.register(_LIVE)
