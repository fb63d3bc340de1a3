"""The EventLogger: validates events against registered schemas and writes their envelopes."""

from __future__ import annotations

import copy
import inspect
import logging
import os
import warnings
from datetime import datetime
from time import time as _now
from typing import IO, TYPE_CHECKING, Any, Callable

from traitlets import Bytes, Instance, List, Unicode, Union, default, observe
from traitlets.config import Config, LoggingConfigurable

from .envelope import (
    ENVELOPE_FIELDS,
    EVENT_ID_FIELD,
    EVENTS_METADATA_VERSION,
    EventRecord,
    dumps,
    format_epoch,
    format_timestamp,
    record_template,
)
from .errors import (
    CoreMetadataError,
    ListenerError,
    ModifierError,
    SchemaNotRegistered,
    SinkError,
)
from .handlers import HandlerSet, describe_handler
from .hooks import Hooks
from .listeners import ListenerScheduler
from .redaction import RedactionPolicy, read_secret
from .traits import Handlers, pass_handlers_uncopied

if TYPE_CHECKING:
    from .redaction import Redactor
    from .schema import EventSchema, SchemaType
    from .schema_registry import SchemaRegistry

__all__ = [
    "EVENTS_METADATA_VERSION",
    "CoreMetadataError",
    "EventLogger",
    "ListenerError",
    "ModifierError",
    "SchemaNotRegistered",
    "SinkError",
]

Modifier = Callable[..., dict[str, Any]]
Listener = Callable[..., Any]

_INFO = logging.INFO


class _Route:
    """What emitting one schema version takes, looked up once instead of on every event."""

    __slots__ = (
        "listens",
        "modified_listeners",
        "modifiers",
        "redact",
        "unmodified_listeners",
        "validate",
        "version",
    )

    def __init__(
        self,
        schema: EventSchema,
        modifiers: tuple,
        modified: tuple,
        unmodified: tuple,
        redact: Redactor | None,
    ):
        self.version = schema.version
        self.validate = schema.validate
        self.modifiers = modifiers
        self.modified_listeners = modified
        self.unmodified_listeners = unmodified
        self.listens = bool(modified or unmodified)
        self.redact = redact


class EventLogger(LoggingConfigurable):
    """Emits structured events, validated against registered JSON schemas, to logging handlers.

    Each event is written to every handler as one line of JSON, the envelope::

        {"__timestamp__": "...Z", "__schema__": "<$id>", "__schema_version__": "1",
         "__metadata_version__": 1, ...event data...}
    """

    handlers = Handlers(
        default_value=None,
        allow_none=True,
        help="""A list of logging.Handler instances to send events to, or a callable
        returning that list. Each handler's formatter is replaced so that it writes one
        JSON envelope per line.

        Default: None, which discards every event (listeners still hear them).
        """,
    ).tag(config=True)

    allowed_schemas = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="""The $ids of the schemas whose events are recorded; events of any other
        schema are dropped silently (the jupyter_events 0.1.0 trait).

        Default: None, which records the events of every registered schema.
        """,
    ).tag(config=True)

    # Items unchecked by the trait: RedactionPolicy says what is wrong with a rule.
    redactions = List(
        default_value=[],
        help="""Redaction rules, applied to every event after validation and before any
        handler or listener sees it, e.g. [{"path": "args.*.path", "action": "hash"},
        {"key": "(?i)password", "action": "drop"}, {"value": "<regex>", "action": "mask",
        "mask": "<email>"}, {"path": "cells[*].source", "action": "mask", "schemas":
        ["<$id>"]}]. Each rule has one matcher (path, key or value), an action (drop, mask
        or hash) and optionally mask (default "[redacted]") and schemas (default: every
        schema); see jupyter_events_ext.events.redaction. A malformed policy raises
        RedactionPolicyError when it is set.

        Default: [] (nothing is redacted, at no cost).
        """,
    ).tag(config=True)

    redaction_secret = Union(
        [Bytes(), Unicode()],
        default_value=None,
        allow_none=True,
        help="""The key of "hash" redactions (HMAC-SHA256), bytes or str (UTF-8): keep it
        secret and the same across restarts, so that hashed values stay comparable.

        Default: None (no secret; a policy with a "hash" rule then needs
        redaction_secret_file).
        """,
    ).tag(config=True)

    redaction_secret_file = Unicode(
        default_value=None,
        allow_none=True,
        help="""A file holding the key of "hash" redactions (its content, trailing newline
        removed), read when the policy is set; an alternative to redaction_secret.

        Default: None (no file).
        """,
    ).tag(config=True)

    schemas = Instance(
        "jupyter_events_ext.events.schema_registry.SchemaRegistry",
        help="The SchemaRegistry holding every registered schema and its compiled validator.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Observers fire while traitlets initializes, so this state must exist first.
        self._handlers = HandlerSet()
        self._registry: SchemaRegistry | None = None
        self._allowed: frozenset[str] | None = None
        # Routes by $id (the newest version) and by ($id, version), valid for one
        # registry revision; None marks a schema that allowed_schemas leaves out.
        self._newest: dict[str, _Route | None] = {}
        self._versioned: dict[tuple[str, str], _Route | None] = {}
        self._routes_revision: int | None = None
        self._modifiers = Hooks()
        self._modified_listeners = Hooks()
        self._unmodified_listeners = Hooks()
        self._listeners = ListenerScheduler(self)
        self._redaction: RedactionPolicy | None = None
        self._configured = False  # the policy is compiled once all its traits are set
        super().__init__(*args, **kwargs)
        self._configured = True
        self._compile_redactions()
        self._record_template = record_template(
            f"{__name__}.{type(self).__name__}", EventLogger.emit
        )
        self._handlers.sync(self.handlers or ())

    # -- configuration ---------------------------------------------------------------

    def _find_my_config(self, cfg: Config) -> Any:
        my_config = super()._find_my_config(cfg)
        pass_handlers_uncopied(my_config, "handlers")
        return my_config

    @default("schemas")
    def _default_schemas(self) -> SchemaRegistry:
        from .schema_registry import SchemaRegistry

        # Defaults do not notify observers.
        self._registry = SchemaRegistry()
        return self._registry

    @observe("schemas")
    def _schemas_changed(self, change: Any) -> None:
        self._registry = change["new"]
        self._invalidate_routes()

    @observe("handlers")
    def _handlers_changed(self, change: Any) -> None:
        self._handlers.sync(change["new"] or ())

    @observe("allowed_schemas")
    def _allowed_schemas_changed(self, change: Any) -> None:
        allowed = change["new"]
        self._allowed = None if allowed is None else frozenset(allowed)
        self._invalidate_routes()

    @observe("redactions", "redaction_secret", "redaction_secret_file")
    def _redactions_changed(self, change: Any) -> None:
        if self._configured:
            self._compile_redactions()

    def _compile_redactions(self) -> None:
        """Check and compile the policy; raises ``RedactionPolicyError`` if malformed."""
        if not self.redactions:
            self._redaction = None
        else:
            secret = read_secret(self.redaction_secret, self.redaction_secret_file)
            self._redaction = RedactionPolicy(self.redactions, secret)
        self._invalidate_routes()

    def register_handler(self, handler: logging.Handler) -> None:
        """Send events to ``handler`` too, one JSON envelope per line."""
        if self.handlers is None:
            self.handlers = [handler]
        elif handler not in self.handlers:
            self.handlers.append(handler)
        self._handlers.sync(self.handlers)

    def remove_handler(self, handler: logging.Handler) -> None:
        """Stop sending events to ``handler`` and give it back its own formatter."""
        if self.handlers and handler in self.handlers:
            self.handlers.remove(handler)
        self._handlers.sync(self.handlers or ())

    # -- schemas ---------------------------------------------------------------------

    def register_event_schema(self, schema: SchemaType | EventSchema) -> EventSchema:
        """Register a schema given as a dict, a JSON/YAML string, a ``pathlib`` path or an
        ``EventSchema``, and return it.

        Raises ``jsonschema.ValidationError`` if it is not a valid event schema and
        ``SchemaRegistryException`` if its ``$id`` and version are already registered.
        """
        event_schema = self.schemas.register(schema)
        for hooks in (self._modifiers, self._modified_listeners, self._unmodified_listeners):
            hooks.note(event_schema.id)
        self._invalidate_routes()
        return event_schema

    def register_schema(self, schema: SchemaType) -> EventSchema:
        """Register a schema dict, with jupyter_events 0.1.0's rules: any URI reference as
        ``$id`` (e.g. ``"url.to.event.schema"``) and an integer ``version`` are accepted.
        """
        from .schema import EventSchema

        return self.register_event_schema(EventSchema(schema, strict=False))

    def register_schema_file(self, filename: str | os.PathLike[str] | IO[str]) -> EventSchema:
        """Register the JSON or YAML schema in ``filename`` (a path or an open file),
        with the rules of ``register_schema``.
        """
        from .schema import read_schema_file

        return self.register_schema(read_schema_file(filename))

    def register_schema_url(
        self, url: str, *, timeout: float | None = None, max_bytes: int | None = None
    ) -> EventSchema:
        """Download the JSON or YAML schema at the http(s) ``url`` and register it, with the
        rules of ``register_schema``.

        The whole download must end within ``timeout`` seconds (None: 10) and hold at most
        ``max_bytes`` (None: 1 MiB); any failure raises ``EventSchemaFetchError``. Only
        ``url`` itself is fetched: never the schema's ``$id``, nor a remote ``$ref``.
        """
        from .schema import read_schema_url

        return self.register_schema(read_schema_url(url, timeout=timeout, max_bytes=max_bytes))

    # -- modifiers and listeners -----------------------------------------------------

    def add_modifier(self, *, schema_id: str | None = None, modifier: Modifier) -> None:
        """Run ``modifier(schema_id=..., data=...) -> dict`` on events before validation.

        Without ``schema_id`` it applies to every schema, including those registered
        later. Raises ``ModifierError`` if ``modifier`` cannot take those arguments.
        """
        if not callable(modifier):
            raise TypeError("`modifier` must be a callable")
        _check_signature(modifier, ModifierError, schema_id="", data={})
        self._modifiers.add(schema_id, modifier)
        self._invalidate_routes()

    def remove_modifier(self, *, schema_id: str | None = None, modifier: Modifier) -> None:
        """Stop running ``modifier``, for ``schema_id`` or (by default) for every schema."""
        self._modifiers.remove(schema_id, modifier)
        self._invalidate_routes()

    def add_listener(
        self, *, modified: bool = True, schema_id: str | None = None, listener: Listener
    ) -> None:
        """Call ``listener(logger=..., schema_id=..., data=...)`` after each event is written.

        ``modified=True`` (default) passes the data after the modifiers ran, ``False``
        the data as given to ``emit``. Without ``schema_id`` it applies to every schema,
        including those registered later. A coroutine function runs as a task on the
        running event loop; emitted from a thread without one, on the loop the logger
        last saw, or else on a background loop. Listener failures are logged, never
        raised. Raises ``ListenerError`` if ``listener`` cannot take the arguments.
        """
        if not callable(listener):
            raise TypeError("`listener` must be a callable")
        _check_signature(listener, ListenerError, logger=self, schema_id="", data={})
        hooks = self._modified_listeners if modified else self._unmodified_listeners
        hooks.add(schema_id, listener)
        self._invalidate_routes()
        self._listeners.remember_loop()

    def remove_listener(self, *, schema_id: str | None = None, listener: Listener) -> None:
        """Stop calling ``listener``, for ``schema_id`` or (by default) for every schema."""
        self._modified_listeners.remove(schema_id, listener)
        self._unmodified_listeners.remove(schema_id, listener)
        self._invalidate_routes()

    @property
    def _active_listeners(self) -> set[Any]:
        """The listener tasks still running: jupyter_events' name, which its tests and
        code written against it read."""
        return self._listeners.tasks

    async def gather_listeners(self) -> list[Any]:
        """Wait for the listener coroutines started so far; return their results or
        exceptions."""
        return await self._listeners.gather()

    # -- emitting --------------------------------------------------------------------

    def emit(
        self,
        *,
        schema_id: str,
        data: dict[str, Any],
        timestamp_override: datetime | None = None,
        version: str | int | None = None,
        metadata: dict[str, Any] | None = None,
        durable: bool = False,
    ) -> dict[str, Any] | None:
        """Validate ``data`` against schema ``schema_id`` and write its envelope to every
        handler; return the envelope.

        ``version`` names the schema version (default: the newest registered); a named
        version that is not registered raises ``SchemaNotFound`` (a ``KeyError``).
        Returns None, writing nothing, if there is nowhere to send the event (no handlers
        and no listeners), if ``allowed_schemas`` excludes it, or if no version of the
        schema is registered and none was named (with a ``SchemaNotRegistered``
        warning). Raises ``jsonschema.ValidationError`` if the data is invalid.
        ``timestamp_override`` replaces the current time; a naive datetime means UTC.
        ``metadata`` adds envelope fields set by the caller, never by the event's data
        (for example the server's ``__user__``); their names must start with ``__``.

        A handler that fails to write an event normally reports it only through its own
        ``handleError`` (which prints it), as with jupyter_events. ``durable=True`` makes
        it the caller's business: every handler is tried, and if any failed (or raised),
        ``SinkError`` names each with its error and listeners are not called.
        """
        if self._routes_revision != (self._registry.revision if self._registry else None):
            self._invalidate_routes()
        if version is None:
            try:
                route = self._newest[schema_id]
            except KeyError:
                route = self._newest[schema_id] = self._make_route(schema_id, None)
        else:
            key = (schema_id, str(version))
            try:
                route = self._versioned[key]
            except KeyError:
                route = self._versioned[key] = self._make_route(*key)
        handlers = self._handlers.handlers
        if route is None or not (handlers or route.listens):
            return self._unroutable(schema_id)
        return self._record(route, schema_id, data, timestamp_override, handlers, metadata, durable)

    def record_event(
        self,
        schema_id: str,
        version: str | int,
        event: dict[str, Any],
        timestamp_override: datetime | None = None,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Record ``event`` against version ``version`` of schema ``schema_id``: the
        jupyter_events 0.1.0 name for ``emit(..., version=version)``.
        """
        return self.emit(
            schema_id=schema_id,
            data=event,
            timestamp_override=timestamp_override,
            version=version,
            metadata=metadata,
        )

    def _record(
        self,
        route: _Route,
        schema_id: str,
        data: dict[str, Any],
        timestamp_override: datetime | None,
        handlers: tuple[logging.Handler, ...],
        metadata: dict[str, Any] | None,
        durable: bool,
    ) -> dict[str, Any]:
        original = data
        if route.modifiers or route.listens:
            # Modifiers and listeners may mutate what they get; the caller's dict stays intact.
            data = copy.deepcopy(data)
            for modifier in route.modifiers:
                data = modifier(schema_id=schema_id, data=data)
                if not isinstance(data, dict):
                    msg = f"Modifier {modifier!r} returned {type(data).__name__}, not a dict"
                    raise ModifierError(msg)
            if route.unmodified_listeners:
                route.validate(original)
        route.validate(data)
        # Validated as given, then redacted for every handler and listener: an operator's
        # policy never turns an emitter's valid event into a rejected one.
        if route.redact is not None:
            data = route.redact(data)
            if route.unmodified_listeners:
                original = route.redact(original)

        created = _now()
        timestamp = (
            format_epoch(created)
            if timestamp_override is None
            else format_timestamp(timestamp_override)
        )
        envelope = {
            "__timestamp__": timestamp,
            "__schema__": schema_id,
            "__schema_version__": route.version,
            "__metadata_version__": EVENTS_METADATA_VERSION,
        }
        if metadata:
            _check_metadata(metadata)
            envelope.update(metadata)
        metadata_size = len(envelope)
        envelope.update(data)
        if len(envelope) != metadata_size + len(data):
            # The data tried to set envelope fields; the envelope wins.
            envelope.update(
                __timestamp__=timestamp,
                __schema__=schema_id,
                __schema_version__=route.version,
                __metadata_version__=EVENTS_METADATA_VERSION,
            )
            if metadata:
                envelope.update(metadata)

        if handlers:
            event_id = metadata.get(EVENT_ID_FIELD) if metadata else None
            record = EventRecord(
                self._record_template, dumps(envelope), created, schema_id, event_id
            )
            if durable:
                _write_durably(record, handlers, envelope)
            else:
                for handler in handlers:
                    if handler.level <= _INFO:
                        handler.handle(record)
        if route.listens:
            calls = [(listener, data) for listener in route.modified_listeners] + [
                (listener, original) for listener in route.unmodified_listeners
            ]
            try:
                self._listeners.notify(schema_id, calls)
            except Exception as err:  # the event is written: report, never raise
                self.log.error("Event listeners for %s failed: %s", schema_id, err, exc_info=err)
        return envelope

    def _unroutable(self, schema_id: str) -> None:
        """Warn, as jupyter_events does, when an event of a never-registered schema had
        somewhere to go."""
        if self._allowed is not None and schema_id not in self._allowed:
            return None
        if self._registry is not None and schema_id in self._registry:
            return None  # registered, but nobody to tell
        if not self._handlers.handlers and not (
            self._modified_listeners.any_for(schema_id)
            or self._unmodified_listeners.any_for(schema_id)
        ):
            return None
        warnings.warn(
            f"{schema_id} has not been registered yet. If this was not intentional, please "
            "register the schema using the `register_event_schema` method.",
            SchemaNotRegistered,
            stacklevel=3,
        )
        return None

    def _invalidate_routes(self) -> None:
        self._newest = {}
        self._versioned = {}
        self._routes_revision = self._registry.revision if self._registry else None

    def _make_route(self, schema_id: str, version: str | None) -> _Route | None:
        """The route of ``schema_id`` at ``version`` (None: the newest), or None when
        ``allowed_schemas`` leaves it out or no version was named and none is registered.
        """
        if self._allowed is not None and schema_id not in self._allowed:
            return None
        registry = self._registry
        if version is None and (registry is None or schema_id not in registry):
            return None
        schema = self.schemas.get(schema_id, version)  # raises SchemaNotFound
        return _Route(
            schema,
            self._modifiers.of(schema_id),
            self._modified_listeners.of(schema_id),
            self._unmodified_listeners.of(schema_id),
            self._redaction.for_schema(schema_id) if self._redaction else None,
        )


def _write_durably(
    record: EventRecord, handlers: tuple[logging.Handler, ...], envelope: dict[str, Any]
) -> None:
    """Hand ``record`` to every handler; raise ``SinkError`` if any of them failed."""
    failures: list[tuple[logging.Handler, BaseException]] = []
    record.failures = failures  # HandlerSet's handleError adds to it
    for handler in handlers:
        if handler.level <= _INFO:
            try:
                handler.handle(record)
            except Exception as err:
                failures.append((handler, err))
    if failures:
        where = "; ".join(
            f"{describe_handler(handler)} ({type(error).__name__}: {str(error)[:200]})"
            for handler, error in failures
        )
        raise SinkError(f"{record.schema_id} event not written to {where}", envelope, failures)


# Metadata names found good: most callers pass the same few on every event.
_good_metadata_names: set[str] = set()
_MAX_GOOD_METADATA_NAMES = 256


def _check_metadata(metadata: dict[str, Any]) -> None:
    if _good_metadata_names.issuperset(metadata):
        return
    for name in metadata:
        if not (isinstance(name, str) and name.startswith("__")) or name in ENVELOPE_FIELDS:
            msg = (
                f"metadata field {name!r} must be named '__<name>' and not be one of "
                f"{', '.join(ENVELOPE_FIELDS)}"
            )
            raise ValueError(msg)
    if len(_good_metadata_names) < _MAX_GOOD_METADATA_NAMES:  # names made up per event
        _good_metadata_names.update(metadata)


def _check_signature(
    function: Callable[..., Any], error: type[Exception], **arguments: Any
) -> None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # no signature to inspect (some builtins)
        return
    try:
        signature.bind(**arguments)
    except TypeError as err:
        names = ", ".join(f"{name}=..." for name in arguments)
        raise error(f"{function!r} cannot be called as ({names}): {err}") from err
