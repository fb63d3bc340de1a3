"""A logging handler that publishes event envelopes to a Redis Stream.

Every user's Jupyter server on a hub can point an ``EventLogger`` at the same stream::

    c.EventLogger.handlers = [
        RedisStreamHandler(url="redis://events.example.org:6379/0", stream="jupyter_events")
    ]

Each record becomes one stream entry with two fields:

``event``
    the record as its handler formats it: for an ``EventLogger``, the envelope's JSON line.
``schema``
    the envelope's ``__schema__``, so that readers can filter without parsing JSON; absent
    from entries whose text is not an event envelope. An ``EventLogger``'s records carry
    it as ``schema_id``; for other records it is read from an envelope-shaped message.

``emit`` never touches the network: records wait in the bounded queue of a
``BatchingHandler`` (``batching.py``), whose background thread sends them in batches,
each batch one round trip: a Lua script that skips the events whose id it has seen
within ``dedup_window``, runs ``XADD`` for the others (then records their ids), then one
approximate ``XTRIM`` when ``maxlen`` is set. Nothing else runs in Redis meanwhile; but a
script that fails half-way (say the key holds no stream) keeps what it wrote so far, so
an id is recorded only after its entry: a retry may repeat an entry, never lose one.

Exactly once, fleet-wide: an event with an id (``__id__``, the client id, which an
``EventLogger`` record carries as ``event_id``) is added only if no event with that id was
added to the stream within the last ``dedup_window`` seconds, whichever process sent it.
The ids live in one sorted set next to the stream (``<stream>:ids``), scored by Redis's
own clock (``TIME``) when first added, trimmed of ids older than the window once per
batch and expiring with the last of them: its size is the number of ids seen within
one window (about 150 bytes each for a 36-character UUID).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..events.envelope import EVENT_ID_FIELD
from .batching import BatchingHandler

_Entry = tuple[str, str, str]  # an event's line, its schema $id and its id ("" for none)

# KEYS[1]: the stream. KEYS[2]: the sorted set of the ids seen within the window, each
# scored with the millisecond it was first seen. ARGV[1]: approximate MAXLEN, 0 for none.
# ARGV[2]: the window in ms, 0 for no deduplication. ARGV[3]: how the events follow:
# "lines" = ARGV[4] holds them joined by "\n", ARGV[5] their schema $ids joined likewise
# and ARGV[6], if the batch has any, their ids likewise (three arguments cost the sender
# far less than three per event); "args" = event, schema and id follow each other from
# ARGV[4] on, for records whose text spans lines. An empty schema means the record is no
# event envelope: its entry gets no "schema" field. An empty id is never deduplicated.
# Returns {events added, duplicates skipped}.
_PUBLISH_SCRIPT = r"""
local stream, seen = KEYS[1], KEYS[2]
local window = tonumber(ARGV[2])
local now = nil
local added, duplicates = 0, 0
local function deduplicated(id)
  return id ~= '' and window > 0
end
local function seen_before(id)
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    -- Forget the ids seen longer ago than the window, once per batch.
    redis.call('ZREMRANGEBYSCORE', seen, '-inf', now - window)
  end
  return redis.call('ZSCORE', seen, id) ~= false
end
local function add(event, schema, id)
  if deduplicated(id) and seen_before(id) then
    duplicates = duplicates + 1
    return
  end
  if schema ~= '' then
    redis.call('XADD', stream, '*', 'event', event, 'schema', schema)
  else
    redis.call('XADD', stream, '*', 'event', event)
  end
  -- Only once its entry is in: Redis keeps a failing script's earlier writes, and an id
  -- recorded without its entry would make the retry a "duplicate", the event lost.
  if deduplicated(id) then
    redis.call('ZADD', seen, now, id)
  end
  added = added + 1
end
if ARGV[3] == 'lines' then
  local events, schemas, ids = ARGV[4], ARGV[5], ARGV[6]
  local e, s, i = 1, 1, 1
  while true do
    local e_end = string.find(events, '\n', e, true)
    local s_end = string.find(schemas, '\n', s, true)
    local id = ''
    local i_end = nil
    if ids then
      i_end = string.find(ids, '\n', i, true)
      id = string.sub(ids, i, (i_end or 0) - 1)
    end
    add(string.sub(events, e, (e_end or 0) - 1), string.sub(schemas, s, (s_end or 0) - 1), id)
    if not e_end then break end
    e, s = e_end + 1, s_end + 1
    if i_end then i = i_end + 1 end
  end
else
  for k = 4, #ARGV, 3 do
    add(ARGV[k], ARGV[k + 1], ARGV[k + 2])
  end
end
if now ~= nil then
  -- The set goes away on its own once no id has come for a whole window.
  redis.call('PEXPIRE', seen, window)
end
local maxlen = tonumber(ARGV[1])
if maxlen > 0 then
  redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)
end
return {added, duplicates}
"""

# Long enough to cover every retry that is not a person coming back: the sink's own
# (seconds), a browser's (every 15 s at most), a server restart or a Redis failover.
DEFAULT_DEDUP_WINDOW = 3600.0

_INSTALL_HINT = "RedisStreamHandler needs the redis client: pip install 'jupyter_events_ext[redis]'"


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as err:
        raise ImportError(_INSTALL_HINT) from err
    return redis


class RedisStreamHandler(BatchingHandler[_Entry]):
    """Publish each record to a Redis Stream, without ever making the emitter wait.

    What it guarantees
    ------------------
    An event is *accepted* when ``emit`` returns: it is in this process's bounded queue.
    It is *durable* once the round trip of its batch has returned: Redis has run the
    script (and, with ``appendfsync always``, written it to disk); ``sent`` counts it.
    Until then it can be lost in two ways only, both counted: the queue overflows (the
    oldest events are dropped, counted in ``dropped`` and warned about), or the process
    ends before ``close()`` could send it (``close()`` returns within ``flush_timeout``
    and warns about what is left, counted in ``pending``; at interpreter exit
    ``logging.shutdown()`` calls ``flush()`` first, so a handler nobody closed before can
    take twice that; a process killed without ``close()`` loses its queue silently, and
    a forked child starts with an empty one).

    Delivery is at least once per round trip: a batch whose answer was lost (the
    connection broke after Redis ran it) is sent again. Events that carry an id
    (``__id__``) are made exactly once by the script: an id already added within
    ``dedup_window`` seconds is skipped (counted in ``duplicates``), whichever process
    or handler sent it, across restarts of the senders and of Redis (with persistence).
    Events without an id are never deduplicated.

    Parameters
    ----------
    url
        Where Redis is: ``redis://[user:password@]host:port/db``, ``rediss://`` for TLS or
        ``unix:///path/to/socket``. Default ``redis://localhost:6379/0``.
    stream
        The key of the stream. Default ``jupyter_events``.
    maxlen
        Cap the stream at about this many entries (``XTRIM MAXLEN ~``: Redis trims whole
        internal nodes, so it may hold somewhat more). ``None`` (default) keeps everything.
    dedup_window
        For how many seconds an event id, once added, makes later events with the same id
        duplicates. Default 3600 (one hour: every retry of a sink, a browser or a
        restarted server comes far sooner; Redis keeps about 150 bytes per id seen within
        the window, e.g. 52 MB for 100 events with ids a second). ``None`` or 0 turns
        deduplication off.
    dedup_key
        The sorted set of recent ids. Default ``"<stream>:ids"``. On a Redis Cluster,
        give the stream a hash tag (``{jupyter_events}``) so that both share a slot.
    batch_size
        The most events sent in one round trip. Default 500.
    queue_size
        The most events waiting in this process while Redis is slow or unreachable; beyond
        it the oldest are dropped (see ``dropped``). Default 100,000.
    flush_timeout
        How long ``flush()`` waits by default, and the most ``close()`` takes in all, in
        seconds, whatever Redis does (a round trip still running then is cut short).
        Default 5.
    socket_timeout
        How long one connection attempt or round trip may take, in seconds. Default 5.
    level
        The handler's logging level.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        stream: str = "jupyter_events",
        *,
        maxlen: int | None = None,
        dedup_window: float | None = DEFAULT_DEDUP_WINDOW,
        dedup_key: str | None = None,
        batch_size: int = 500,
        queue_size: int = 100_000,
        flush_timeout: float = 5.0,
        socket_timeout: float = 5.0,
        level: int | str = logging.NOTSET,
    ) -> None:
        redis = _import_redis()
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"maxlen must be a positive integer or None, not {maxlen!r}")
        if dedup_window is not None and dedup_window < 0:
            raise ValueError(f"dedup_window must be positive, 0 or None, not {dedup_window!r}")
        super().__init__(
            batch_size=batch_size, queue_size=queue_size, flush_timeout=flush_timeout, level=level
        )
        self.url = url
        self.stream = stream
        self.maxlen = maxlen
        self.dedup_window = dedup_window or 0.0
        self.dedup_key = dedup_key if dedup_key is not None else f"{stream}:ids"
        self.socket_timeout = socket_timeout
        self._duplicates = 0

        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Retries are ours (with backoff, interruptible by close()), so the client makes none.
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._publish = self._redis.register_script(_PUBLISH_SCRIPT)

    @property
    def duplicates(self) -> int:
        """How many of the events sent Redis skipped: their id was added within the window."""
        return self._duplicates

    def _entry(self, record: logging.LogRecord) -> _Entry:
        line = self.format(record)
        schema_id = getattr(record, "schema_id", None)
        if schema_id is None:
            schema_id, event_id = _routing_of_foreign(record)
        else:
            event_id = getattr(record, "event_id", None)
        if event_id is None:
            return line, schema_id, ""
        return line, schema_id, event_id if type(event_id) is str else str(event_id)

    def _send(self, batch: list[_Entry]) -> None:
        window_ms = int(self.dedup_window * 1000)
        head = [self.maxlen or 0, window_ms]
        lines = "\n".join([line for line, _, _ in batch])
        ids = "\n".join([event_id for _, _, event_id in batch]) if window_ms else ""
        one_per_line = lines.count("\n") == len(batch) - 1
        if one_per_line and (not ids or ids.count("\n") == len(batch) - 1):
            args = [*head, "lines", lines, "\n".join([schema for _, schema, _ in batch])]
            # An id-less batch (the usual server-side one) skips the id bookkeeping.
            if ids.strip("\n"):
                args.append(ids)
        else:
            args = [*head, "args", *(part for entry in batch for part in entry)]
        _, duplicates = self._publish(keys=[self.stream, self.dedup_key], args=args)
        self._duplicates += duplicates

    def _where(self) -> str:
        # The URL without its password, which must not end up in logs.
        kwargs = self._redis.connection_pool.connection_kwargs
        place = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"Redis stream {self.stream!r} at {place}"

    def _abort(self) -> None:
        # Shuts the sockets down, which wakes the sender from a round trip in progress.
        self._redis.connection_pool.disconnect()

    def _release(self) -> None:
        self._redis.close()


def _routing_of_foreign(record: logging.LogRecord) -> tuple[str, str | None]:
    """The ``__schema__`` ("" if none) and ``__id__`` of a record that an ``EventLogger``
    did not make: jupyter_events' records hold the envelope as a dict, others may hold its
    JSON text."""
    message = record.msg
    if isinstance(message, str) and message.startswith("{") and '"__schema__"' in message:
        try:
            message = json.loads(message)
        except ValueError:
            return "", None
    if not isinstance(message, dict):
        return "", None
    schema_id = message.get("__schema__")
    event_id = message.get(EVENT_ID_FIELD)
    return (
        schema_id if isinstance(schema_id, str) and "\n" not in schema_id else "",
        None if event_id is None else str(event_id),
    )
