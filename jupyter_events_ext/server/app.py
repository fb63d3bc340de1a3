"""The server extension application: its configuration, its EventLogger and its stream."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_path
from jupyter_server.extension.application import ExtensionApp
from traitlets import (
    Bool,
    Bytes,
    Dict,
    Enum,
    Float,
    Int,
    List,
    Tuple,
    Unicode,
    Union,
    default,
)
from traitlets.config import Config

from .. import __version__
from ..events.handlers import describe_handler
from ..events.logger import EventLogger
from ..events.schema import schema_files
from ..events.traits import Handlers, pass_handlers_uncopied
from ..sinks.batching import BatchingHandler
from ..sinks.jsonl import FSYNC_MODES, JsonLinesFileHandler, is_regular_file, recorded_ids
from . import api_events, events_socket, rest, snapshots, stream_socket
from .data_dir import RECENT_IDS, SINK, ServerFiles, default_directory
from .forwarding import ServerEventForwarder
from .ingest import Limits
from .metrics import MeteredRecorder, ServerMetrics
from .path_key import load_or_create_key
from .path_policy import PATH_MODES, PathPolicy
from .policy import ClientSchemaPolicy
from .seen_ids import SeenIds
from .stream import EventStream

# The UI-action schemas this package ships, one file per version: <name>/v<N>.yaml.
SHIPPED_SCHEMAS = Path(__file__).parent / "event_schemas"
CONTENTS_SCHEMA = "https://events.jupyter.org/jupyter_server/contents_service/v1"


class EventsExtensionApp(ExtensionApp):
    """Hosts the project's EventLogger inside Jupyter Server.

    Configure it as ``c.EventsExtensionApp.<trait>`` in ``jupyter_server_config.py``.
    ``c.EventLogger.*`` does not reach this extension's logger: that section is
    jupyter_server's own logger (whose class has the same name).
    """

    name = "jupyter_events_ext"

    _default_sink: logging.Handler | None = None

    # Not "handlers": ExtensionApp.handlers are the tornado routes.
    event_handlers = Handlers(
        allow_none=True,
        help="""Where events are recorded (the `handlers` of this extension's
        EventLogger): a list of logging.Handler instances (or a
        callable returning one). Each writes one JSON envelope per line, whatever its
        formatter. The UI's events, events posted by other clients and (see
        forward_server_events) jupyter_server's own events all go here.

        Default: one jupyter_events_ext.sinks.jsonl.JsonLinesFileHandler appending to
        {jupyter_data_dir}/jupyter_events_ext/events.jsonl (it never leaves half a line
        behind when the disk fills); a JupyterHub named server writes events-<name>.jsonl
        instead, and a server whose file another server of the same user writes takes
        events-2.jsonl (or -3, ...). None records nothing (the live stream still works).
        A JsonLinesFileHandler given here that another process writes stops the
        extension from loading, saying so.
        """,
    ).tag(config=True)

    default_sink_max_bytes = Int(
        64 * 1024 * 1024,
        help="""The size at which the default sink (events.jsonl) rotates to events.jsonl.1,
        .1 to .2 and so on; 0 never rotates. Default: 67108864 (64 MiB).""",
    ).tag(config=True)

    default_sink_backups = Int(
        20,
        help="""How many rotated files of the default sink are kept (events.jsonl.1 to .N);
        the oldest beyond is deleted. Default: 20 (with 64 MiB files, at most 1.3 GiB).""",
    ).tag(config=True)

    sink_fsync = Enum(
        FSYNC_MODES,
        default_value="never",
        help="""When an event the default sink (events.jsonl) wrote is on the disk, so that
        a crash of the machine or a power cut cannot lose it once acknowledged. "never":
        the operating system writes it on its own schedule (Linux: within about 30 s), so
        an acknowledged event survives the server's crash but not the machine's. "batch":
        every request or events-socket message is put on the disk (one fsync for all of
        its events) before it is answered, and so is every forwarded server event; the
        price is on the docs' Benchmarks page. Either way, the directory is synced when the
        sink makes its file (at start, and at each rotation). For a JsonLinesFileHandler
        you configure, pass it fsync="batch" instead.

        Default: "never".""",
    ).tag(config=True)

    dead_letter_path = Unicode(
        None,
        allow_none=True,
        help="""The JSON-lines file (readable by its owner only) where a network sink in
        event_handlers (Redis, CloudEvents over HTTP) that has no dead_letter_path of its
        own writes the events its destination refused for good (an HTTP 4xx such as 400 or
        413), instead of sending them again forever; counted in /metrics as
        jupyter_events_ext_sink_events_dead_lettered_total.

        Default: None, which means {jupyter_data_dir}/jupyter_events_ext/dead-letter.jsonl
        (dead-letter-<name>.jsonl for JupyterHub's named server <name>). "" gives them
        none (such events are dropped, counted).""",
    ).tag(config=True)

    extra_schemas = List(
        Unicode(),
        default_value=[],
        help="""More event schemas to register: paths of JSON/YAML files, directories
        (every *.yaml, *.yml and *.json in them, recursively) or http(s) URLs.

        Default: []. Besides these, the UI-action schemas this package ships and every
        schema file under events/ in each Jupyter data path are always registered.
        """,
    ).tag(config=True)

    allowed_client_schemas = List(
        Union([Unicode(), Tuple(Unicode(), Unicode())]),
        default_value=[],
        help="""Registered schemas that clients (the browser) may post, besides the
        UI-action schemas this package ships (each at the version shipped): a "$id" opens
        every version of it, a ("$id", "version") pair one version. jupyter_server's own
        schemas can never be posted by a client, whatever this says.

        Default: [] (only the shipped UI-action schemas, at their shipped versions).
        """,
    ).tag(config=True)

    forward_server_events = Bool(
        True,
        help="""Whether jupyter_server's own events (ServerApp.event_logger: contents,
        kernel actions, gateway and those of other extensions) are recorded in this
        extension's sinks and live stream too.

        Default: True.
        """,
    ).tag(config=True)

    forward_exclude = List(
        Dict(),
        default_value=[{"schema_id": CONTENTS_SCHEMA, "action": "get"}],
        help="""jupyter_server events that are not forwarded, even with
        forward_server_events on: each entry names a "schema_id" and, optionally, data
        fields with the value to match (or a list of values); an event that matches
        every key of some entry stays with jupyter_server's own handlers.

        Default: the contents service's "get" events: JupyterLab reads a file's
        contents on every open, every autosave check and every file-browser refresh, so
        these make most of the forwarded events and say little about what the user did
        (opening a document is captured in the browser). [] forwards everything.
        """,
    ).tag(config=True)

    api_events = Enum(
        ["mark", "refuse"],
        default_value="mark",
        help="""What becomes of the events clients post to jupyter_server's own
        POST /api/events, which lets any client with write on events emit any schema
        jupyter_server's logger knows (JupyterLab's IEventManager posts there).

        "mark": jupyter_server's own schemas (https://events.jupyter.org/jupyter_server/...:
        contents, kernel actions, gateway), which only the server emits, are refused (400);
        so is event data over max_event_size (413) and a timestamp outside max_event_age
        or max_timestamp_skew (400); the rest is emitted as jupyter_server does, and what
        this extension forwards of it carries "__client_posted__": true (and, with
        stamp_user, "__user__"). "refuse": every event posted there is refused (400);
        clients post to jupyter-events-ext/events.

        Default: "mark".""",
    ).tag(config=True)

    path_mode = Enum(
        PATH_MODES,
        default_value="hashed",
        help="""How paths are recorded, the operator's one policy: "as-is"; "hashed", the
        HMAC-SHA256 of the path under the deployment's key (path_hash_key_file), 64 hex
        digits, so that the same path gives the same value without being readable;
        "omitted", never recorded. It applies to jupyter_server's events this extension
        forwards (every field whose name says it holds a path, such as the contents
        service's path and source_path: hashed, or an empty string when omitted) and
        GET jupyter-events-ext/info gives it to the browser, whose pathMode may be
        stricter, never weaker: an event a client posts whose path_mode is weaker is
        refused (400). Sinks configured on jupyter_server's own logger
        (c.EventLogger.handlers) are jupyter_server's, and get its events as it writes
        them.

        Default: "hashed".""",
    ).tag(config=True)

    path_hash_key_file = Unicode(
        None,
        allow_none=True,
        help="""The file holding the key (hex) with which the browser hashes paths
        (HMAC-SHA256) when its path mode is "hashed"; made once, readable by its owner
        only, if it does not exist. GET jupyter-events-ext/info gives it to the
        authenticated user of this server only. On a hub, point every user's server at
        one file (a mounted secret) so that the same path gives the same hash across
        users; by default each deployment of this file has its own.

        Default: None, which means {jupyter_data_dir}/jupyter_events_ext/path-hash.key.""",
    ).tag(config=True)

    stamp_user = Bool(
        False,
        help="""Whether the server writes the authenticated user's name into each event
        a client posts, as the envelope field "__user__". A client cannot set or forge it.

        Default: False.
        """,
    ).tag(config=True)

    max_body_size = Int(
        1024 * 1024,
        help="""The largest POST events request body accepted, in bytes; a larger one is
        answered 413. Default: 1048576 (1 MiB).""",
    ).tag(config=True)

    max_batch_size = Int(
        1000,
        help="""The most events one batch may hold; a larger batch is answered 413.
        Default: 1000.""",
    ).tag(config=True)

    max_event_size = Int(
        64 * 1024,
        help="""The largest event data accepted, in bytes of compact JSON; a larger event
        is rejected (413 alone, a rejection in a batch). Default: 65536 (64 KiB).""",
    ).tag(config=True)

    max_event_age = Float(
        30 * 24 * 3600.0,
        help="""How old an event's client timestamp may be, in seconds, before it is
        rejected as absurd. Default: 2592000 (30 days).""",
    ).tag(config=True)

    max_timestamp_skew = Float(
        300.0,
        help="""How far in the future an event's client timestamp may be, in seconds
        (clocks disagree), before it is rejected. Default: 300.""",
    ).tag(config=True)

    recent_ids_size = Int(
        100_000,
        help="""How many client event ids are remembered, so that a retried event is
        recorded once: the window of deduplication. They are saved in recent_ids_path
        and, at start-up, also read back (as "__id__") from the last 8 MiB of each
        JSON-lines file sink, so a retry that crosses a server restart is recognized
        too. Default: 100000.""",
    ).tag(config=True)

    recent_ids_path = Unicode(
        None,
        allow_none=True,
        help="""The file where recorded client ids are saved (one JSON string per line,
        rewritten with only the last recent_ids_size when it holds twice as many).

        Default: {jupyter_data_dir}/jupyter_events_ext/recent-ids.jsonl (named and
        further servers: as for the default sink, recent-ids-<name>.jsonl or
        recent-ids-2.jsonl, ...). "" keeps them in memory only. A file given here that
        another server writes stops the extension from loading, saying so.""",
    ).tag(config=True)

    stream_buffer_size = Int(
        10_000,
        help="""How many recent events the live stream keeps, so that a reconnecting
        subscriber can resume with after=<seq>. Default: 10000.""",
    ).tag(config=True)

    stream_buffer_bytes = Int(
        32 * 1024 * 1024,
        help="""The most bytes of events the live stream keeps (the oldest go first),
        whatever stream_buffer_size says. Default: 33554432 (32 MiB).""",
    ).tag(config=True)

    max_events_sockets_per_user = Int(
        20,
        help="""The most events sockets one user may have open at once (a browser tab opens
        one); more are refused with 429, and the browser sends by POST events instead.
        Default: 20.""",
    ).tag(config=True)

    max_subscribers = Int(
        100,
        help="""The most live-stream subscribers at once; more are refused with 429.
        Default: 100.""",
    ).tag(config=True)

    subscriber_queue_size = Int(
        5_000,
        help="""How many events may wait for one stream subscriber that does not read
        them; beyond that it is closed (code 4429) and may resume with after=<seq>.
        Default: 5000.""",
    ).tag(config=True)

    subscriber_queue_bytes = Int(
        4 * 1024 * 1024,
        help="""How many bytes of events may wait for one stream subscriber that does not
        read them, whatever subscriber_queue_size says; beyond that it is closed (code
        4429) and may resume with after=<seq>. Default: 4194304 (4 MiB).""",
    ).tag(config=True)

    # Items unchecked by the trait: RedactionPolicy says what is wrong with a rule.
    redactions = List(
        default_value=[],
        help="""Redaction rules for this extension's EventLogger (its `redactions`),
        applied to every event it records (clients' and forwarded server events) after
        validation and before any sink or the live stream sees it, e.g.
        [{"path": "args.*.path", "action": "hash"}, {"key": "(?i)password", "action":
        "drop"}]. A malformed policy stops the extension from loading, with a message.

        Default: [] (nothing is redacted).
        """,
    ).tag(config=True)

    redaction_secret = Union(
        [Bytes(), Unicode()],
        default_value=None,
        allow_none=True,
        help="""The key of "hash" redactions (HMAC-SHA256), bytes or str. Default: None
        (then a "hash" rule needs redaction_secret_file).""",
    ).tag(config=True)

    redaction_secret_file = Unicode(
        default_value=None,
        allow_none=True,
        help="""A file holding the key of "hash" redactions (trailing newline removed),
        read at start-up. Default: None (no file).""",
    ).tag(config=True)

    snapshot_dir = Unicode(
        None,
        allow_none=True,
        help="""The directory where notebook snapshots are stored (POST
        jupyter-events-ext/snapshots), each as <sha256>.ipynb, readable by the server's
        user only: content-addressed, so the same notebook is stored once. Events carry
        only a snapshot's id and hash. The browser sends snapshots only when its
        "snapshots" setting is on (off by default).

        Default: None: snapshots are off, and the route answers 404.""",
    ).tag(config=True)

    snapshot_quota_bytes = Int(
        1024 * 1024 * 1024,
        help="""The most bytes of snapshots snapshot_dir may hold; a new snapshot that would
        pass it is answered 413 (the browser records it as not stored). 0 means no quota.
        Default: 1073741824 (1 GiB).""",
    ).tag(config=True)

    snapshot_max_bytes = Int(
        10 * 1024 * 1024,
        help="""The largest notebook snapshot accepted, in bytes; a larger one is answered
        413. Default: 10485760 (10 MiB).""",
    ).tag(config=True)

    @default("event_handlers")
    def _default_event_handlers(self) -> list[logging.Handler]:
        self._default_sink = self._files.claim(SINK, self._open_default_sink)
        return [self._default_sink]

    def _open_default_sink(self, path: str) -> JsonLinesFileHandler:
        sink = JsonLinesFileHandler(
            path,
            fsync=self.sink_fsync,
            max_bytes=self.default_sink_max_bytes,
            backup_count=self.default_sink_backups,
        )
        sink.claim()  # FileInUse: another server's; the next path is tried
        return sink

    @functools.cached_property
    def _files(self) -> ServerFiles:
        name = os.environ.get("JUPYTERHUB_SERVER_NAME", "")
        return ServerFiles(default_directory(), name, self.log)

    def _find_my_config(self, cfg: Config) -> Any:
        my_config = super()._find_my_config(cfg)
        pass_handlers_uncopied(my_config, "event_handlers")
        return my_config

    # -- start-up and shut-down ------------------------------------------------------

    def get_default_logging_config(self) -> dict[str, Any]:
        """traitlets leaves the app's logger at DEBUG and filters in its console handler,
        so every debug call builds a record nobody sees: jupyter_server's access-log line
        for each request to this extension among them. Unless an operator configures the
        logging further (``logging_config``), the logger drops them itself."""
        config = super().get_default_logging_config()
        logger = config.get("loggers", {}).get(self.__class__.__name__)
        if logger is not None and not self.logging_config:
            logger["level"] = logging.getLevelName(self.log_level)
        return config

    def initialize_settings(self) -> None:
        # First, so that a malformed redaction policy stops the start before anything opens.
        # No parent: c.EventLogger.* is jupyter_server's logger's configuration.
        event_logger = EventLogger(
            log=self.log,
            redactions=self.redactions,
            redaction_secret=self.redaction_secret,
            redaction_secret_file=self.redaction_secret_file,
        )
        self.sinks: list[logging.Handler] = list(self.event_handlers or [])
        dead_letters = (
            self._files.dead_letters if self.dead_letter_path is None else self.dead_letter_path
        )
        for sink in self.sinks:
            if isinstance(sink, BatchingHandler) and sink.dead_letter_path is None:
                sink.dead_letter_path = dead_letters or None
        _claim(self.sinks)  # FileInUse: the extension does not load, and says why
        self.stream = EventStream(
            buffer_size=self.stream_buffer_size,
            buffer_bytes=self.stream_buffer_bytes,
            queue_size=self.subscriber_queue_size,
            queue_bytes=self.subscriber_queue_bytes,
            max_subscribers=self.max_subscribers,
        )
        event_logger.handlers = [*self.sinks, self.stream]
        self.event_logger = event_logger
        shipped = self._register_schemas()
        server_logger = getattr(self.serverapp, "event_logger", None)
        self.policy = ClientSchemaPolicy(
            [*shipped, *(_allowlist_entry(entry) for entry in self.allowed_client_schemas)],
            server_registry=getattr(server_logger, "schemas", None),
            api_events=self.api_events,
        )
        if self.recent_ids_path is None:
            seen = self._files.claim(
                RECENT_IDS, lambda path: SeenIds(self.recent_ids_size, path, self.log)
            )
        else:
            seen = SeenIds(self.recent_ids_size, self.recent_ids_path or None, self.log)
        self.paths = PathPolicy(self.path_mode, self._load_path_key())
        self.recorder = MeteredRecorder(
            self.event_logger,
            self.policy,
            seen,
            self.sinks,
            max_event_size=self.max_event_size,
            max_event_age=self.max_event_age,
            max_timestamp_skew=self.max_timestamp_skew,
            stamp_user=self.stamp_user,
            paths=self.paths,
        )
        # A browser retries what it sent just before a restart: recognize what was
        # recorded, also when the server died before saving the ids, and also in the
        # default file another server of this user took meanwhile.
        for sink in self.sinks:
            path = getattr(sink, "baseFilename", None)
            if path is None:
                continue
            for current in self._files.sink_set() if sink is self._default_sink else [path]:
                # The file rotated last holds the ids just before the current one's.
                for candidate in (f"{current}.1", current):
                    if is_regular_file(candidate):
                        self.recorder.seen.add(recorded_ids(candidate), save=False)
        self.forwarder = None
        if self.forward_server_events and server_logger is not None:
            self.forwarder = ServerEventForwarder(
                server_logger,
                self.event_logger,
                self.policy,
                self.log,
                self.forward_exclude,
                paths=self.paths,
                stamp_user=self.stamp_user,
            )
            self.forwarder.start(self.sinks)
        for schema_id in self.policy.allowed_server_schemas():
            self.log.warning(
                "jupyter_events_ext: %s is one of jupyter_server's own schemas; "
                "clients can never post it, allowed_client_schemas notwithstanding.",
                schema_id,
            )

        self.events_sockets = events_socket.UserSockets(self.max_events_sockets_per_user)
        self.metrics = ServerMetrics(self.stream, self.sinks)
        self.metrics.open()
        for sink in self.sinks:
            self.log.info("jupyter_events_ext: recording events to %s", describe_handler(sink))
        if not self.sinks:
            self.log.info("jupyter_events_ext: recording no events (event_handlers is None)")

    def info(self) -> dict[str, Any]:
        """What ``GET info`` says besides the live stream's state."""
        return {
            "path_mode": self.path_mode,
            "path_hash_key": self.paths.key,
            "version": __version__,
            "sinks": [describe_handler(sink) for sink in self.sinks],
            "forward_server_events": self.forward_server_events,
            "stamp_user": self.stamp_user,
            "limits": {
                "max_body_size": self.max_body_size,
                "max_batch_size": self.max_batch_size,
                "max_event_size": self.max_event_size,
                "max_event_age": self.max_event_age,
                "max_timestamp_skew": self.max_timestamp_skew,
                "max_events_sockets_per_user": self.max_events_sockets_per_user,
            },
            "stream": {
                "buffer_size": self.stream_buffer_size,
                "buffer_bytes": self.stream_buffer_bytes,
                "subscriber_queue_size": self.subscriber_queue_size,
                "subscriber_queue_bytes": self.subscriber_queue_bytes,
                "max_subscribers": self.max_subscribers,
            },
        }

    def _load_path_key(self) -> str | None:
        """The deployment's key (hex) for hashing paths, made if missing; None, logged,
        when it cannot be had: paths to hash are then left out, here and in the browser."""
        key_file = self.path_hash_key_file or self._files.path_key
        try:
            return load_or_create_key(key_file)
        except (OSError, ValueError) as err:
            self.log.error("jupyter_events_ext: no key to hash paths with: %s", err)
            return None

    def initialize_handlers(self) -> None:
        # Each handler is given the few objects it works with, and nothing else.
        limits = Limits(max_body_size=self.max_body_size, max_batch_size=self.max_batch_size)
        needs = {
            rest.SchemasHandler: {
                "registry": self.event_logger.schemas,
                "policy": self.policy,
            },
            rest.EventsHandler: {"recorder": self.recorder, "limits": limits},
            events_socket.EventsWebSocket: {
                "recorder": self.recorder,
                "limits": limits,
                "sockets": self.events_sockets,
            },
            rest.InfoHandler: {"info": self.info(), "stream": self.stream},
            stream_socket.StreamWebSocket: {"stream": self.stream},
            snapshots.SnapshotsHandler: {
                "store": snapshots.SnapshotStore(
                    self.snapshot_dir, quota_bytes=self.snapshot_quota_bytes or None
                )
                if self.snapshot_dir
                else None,
                "max_bytes": self.snapshot_max_bytes,
            },
            api_events.GuardedEventHandler: {"policy": self.policy, "recorder": self.recorder},
        }
        routes = [
            *api_events.default_handlers,
            *rest.default_handlers,
            *events_socket.default_handlers,
            *stream_socket.default_handlers,
            *snapshots.default_handlers,
        ]
        for pattern, handler in routes:
            self.handlers.append((pattern, handler, needs[handler]))

    async def stop_extension(self) -> None:
        if not hasattr(self, "event_logger"):
            return  # initialize_settings refused to start (a malformed redaction policy)
        if self.forwarder is not None:
            self.forwarder.stop()
        self.metrics.close()
        self.stream.close()
        self.recorder.seen.close()
        self.event_logger.handlers = []
        # Every sink sends what it holds now: logging.shutdown() at exit would not reach
        # those made in jupyter_server_config.py, which dictConfig took out of its list.
        for sink in self.sinks:
            sink.close()

    # -- schemas ---------------------------------------------------------------------

    def _register_schemas(self) -> set[tuple[str, str]]:
        """Register every schema; return the ($id, version) of those this package ships."""
        shipped = set()
        for path in sorted(SHIPPED_SCHEMAS.glob("*/v*.yaml")):
            schema = self.event_logger.register_event_schema(path)
            shipped.add((schema.id, schema.version))
        for data_dir in jupyter_path("events"):
            self._register_directory(Path(data_dir))
        for source in self.extra_schemas:
            if source.startswith(("http://", "https://")):
                self._register(source, self.event_logger.register_schema_url)
            elif os.path.isdir(source):
                self._register_directory(Path(source))
            else:
                self._register(source, lambda s: self.event_logger.register_event_schema(Path(s)))
        return shipped

    def _register_directory(self, directory: Path) -> None:
        if not directory.is_dir():
            return
        for path in schema_files(directory):
            self._register(str(path), lambda s: self.event_logger.register_event_schema(Path(s)))

    def _register(self, source: str, register: Any) -> None:
        # A bad schema file must not stop the server: say which and why, and go on.
        try:
            schema = register(source)
        except Exception as err:
            self.log.error("jupyter_events_ext: could not register schema %s: %s", source, err)
        else:
            self.log.debug(
                "jupyter_events_ext: registered %s v%s from %s", schema.id, schema.version, source
            )


def _claim(sinks: list[logging.Handler]) -> None:
    """Take the files of the sinks that write one (``JsonLinesFileHandler.claim``), or
    none of them."""
    claimed: list[logging.Handler] = []
    try:
        for sink in sinks:
            claim = getattr(sink, "claim", None)
            if claim is not None:
                claim()
                claimed.append(sink)
    except BaseException:
        for sink in claimed:
            sink.close()
        raise


def _allowlist_entry(entry: str | tuple[str, str]) -> tuple[str, str | None]:
    return (entry, None) if isinstance(entry, str) else (entry[0], str(entry[1]))
