"""The EventLogger: validates events against registered schemas and writes their envelopes."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import logging
import os
import time
import warnings
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from traitlets import Instance, List, Unicode, default, observe
from traitlets.config import Config, LoggingConfigurable

from .download import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, download_schema
from .envelope import (
    ENVELOPE_FIELDS,
    EVENTS_METADATA_VERSION,
    EnvelopeFormatter,
    EventRecord,
    dumps,
    format_epoch,
    format_timestamp,
    record_template,
)
from .errors import (
    CoreMetadataError,
    EventSchemaFileAbsent,
    ListenerError,
    ModifierError,
    SchemaNotRegistered,
)
from .traits import Handlers

if TYPE_CHECKING:
    from .schema import EventSchema, SchemaType
    from .schema_registry import SchemaRegistry

__all__ = [
    "EVENTS_METADATA_VERSION",
    "CoreMetadataError",
    "EventLogger",
    "ListenerError",
    "ModifierError",
    "SchemaNotRegistered",
]

Modifier = Callable[..., dict[str, Any]]
Listener = Callable[..., Any]
_Hooks = dict[str, dict[Callable[..., Any], None]]  # schema $id -> ordered set of callables

_FORMATTER = EnvelopeFormatter()
_INFO = logging.INFO
_now = time.time


class _Route:
    """What emitting one schema version takes, looked up once instead of on every event."""

    __slots__ = (
        "listens",
        "modified_listeners",
        "modifiers",
        "precheck",
        "schema",
        "unmodified_listeners",
        "validator",
        "version",
    )

    def __init__(self, schema: EventSchema, modifiers: tuple, modified: tuple, unmodified: tuple):
        self.schema = schema
        self.version = schema.version
        self.precheck = schema._precheck
        self.validator = schema._validator
        self.modifiers = modifiers
        self.modified_listeners = modified
        self.unmodified_listeners = unmodified
        self.listens = bool(modified or unmodified)

    def validate(self, data: Any) -> None:
        if self.precheck is None or not self.precheck(data):
            self.validator.validate(data)


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

    schemas = Instance(
        "jupyter_events_ext.events.schema_registry.SchemaRegistry",
        help="The SchemaRegistry holding every registered schema and its compiled validator.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Observers fire while traitlets initializes, so this state must exist first.
        self._handler_list: tuple[logging.Handler, ...] = ()
        self._replaced_formatters: dict[logging.Handler, logging.Formatter | None] = {}
        self._registry: SchemaRegistry | None = None
        self._allowed: frozenset[str] | None = None
        self._routes: dict[str, _Route] | None = None
        self._version_routes: dict[tuple[str, str], _Route] = {}
        self._routes_revision = -1
        self._modifiers: _Hooks = {}
        self._modified_listeners: _Hooks = {}
        self._unmodified_listeners: _Hooks = {}
        # Hooks added without a schema_id, which every schema gets, even later ones.
        self._global_modifiers: dict[Callable[..., Any], None] = {}
        self._global_modified_listeners: dict[Callable[..., Any], None] = {}
        self._global_unmodified_listeners: dict[Callable[..., Any], None] = {}
        self._active_listeners: set[asyncio.Future[Any]] = set()
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        super().__init__(*args, **kwargs)
        self._record_template = record_template(f"{__name__}.{type(self).__name__}")
        self._sync_handlers()

    # -- configuration ---------------------------------------------------------------

    def _find_my_config(self, cfg: Config) -> Any:
        my_config = super()._find_my_config(cfg)
        handlers = my_config.get("handlers")
        if isinstance(handlers, list):
            # traitlets deep-copies config values, and handlers (locks, open files)
            # cannot be copied: hand the list over inside a function, which is not copied.
            def configured_handlers() -> list[logging.Handler]:
                return handlers

            my_config["handlers"] = configured_handlers
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
        self._sync_handlers()

    @observe("allowed_schemas")
    def _allowed_schemas_changed(self, change: Any) -> None:
        allowed = change["new"]
        self._allowed = None if allowed is None else frozenset(allowed)
        self._invalidate_routes()

    def _sync_handlers(self) -> None:
        handlers = self.handlers or []
        for handler in handlers:
            self._take_over_formatter(handler)
        for handler in list(self._replaced_formatters):
            if handler not in handlers:
                handler.setFormatter(self._replaced_formatters.pop(handler))
        self._handler_list = tuple(handlers)

    def _take_over_formatter(self, handler: logging.Handler) -> None:
        if handler.formatter is not _FORMATTER:
            self._replaced_formatters.setdefault(handler, handler.formatter)
            handler.setFormatter(_FORMATTER)

    def register_handler(self, handler: logging.Handler) -> None:
        """Send events to ``handler`` too, one JSON envelope per line."""
        if self.handlers is None:
            self.handlers = [handler]
        elif handler not in self.handlers:
            self.handlers.append(handler)
        self._sync_handlers()

    def remove_handler(self, handler: logging.Handler) -> None:
        """Stop sending events to ``handler`` and give it back its own formatter."""
        if self.handlers and handler in self.handlers:
            self.handlers.remove(handler)
        self._sync_handlers()

    # -- schemas ---------------------------------------------------------------------

    def register_event_schema(self, schema: SchemaType | EventSchema) -> EventSchema:
        """Register a schema given as a dict, a JSON/YAML string, a ``pathlib`` path or an
        ``EventSchema``, and return it.

        Raises ``jsonschema.ValidationError`` if it is not a valid event schema and
        ``SchemaRegistryException`` if its ``$id`` and version are already registered.
        """
        event_schema = self.schemas.register(schema)
        self._invalidate_routes()
        return event_schema

    def register_schema(self, schema: SchemaType) -> EventSchema:
        """Register a schema dict, with jupyter_events 0.1.0's rules: any URI reference as
        ``$id`` (e.g. ``"url.to.event.schema"``) and an integer ``version`` are accepted.
        """
        from .schema import EventSchema

        return self.register_event_schema(EventSchema(schema, strict=False))

    def register_schema_file(self, filename: str | os.PathLike[str] | Any) -> EventSchema:
        """Register the JSON or YAML schema in ``filename`` (a path or an open file),
        with the rules of ``register_schema``.
        """
        from . import yaml

        if hasattr(filename, "read"):
            return self.register_schema(_parsed(yaml.loads, filename.read()))
        if not os.path.isfile(filename):
            raise EventSchemaFileAbsent(f'Schema file not present at path "{filename}".')
        with open(filename, encoding="utf-8") as file:
            return self.register_schema(_parsed(yaml.loads, file.read()))

    def register_schema_url(
        self, url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> EventSchema:
        """Download the JSON or YAML schema at the http(s) ``url`` and register it, with the
        rules of ``register_schema``.

        The download is bounded by ``timeout`` seconds and ``max_bytes``; any failure
        raises ``EventSchemaFetchError``. Only ``url`` itself is fetched: never the
        schema's ``$id``, nor a remote ``$ref``.
        """
        from . import yaml

        text = download_schema(url, timeout=timeout, max_bytes=max_bytes)
        return self.register_schema(_parsed(yaml.loads, text))

    # -- modifiers and listeners -----------------------------------------------------

    def add_modifier(self, *, schema_id: str | None = None, modifier: Modifier) -> None:
        """Run ``modifier(schema_id=..., data=...) -> dict`` on events before validation.

        Without ``schema_id`` it applies to every schema, including those registered
        later. Raises ``ModifierError`` if ``modifier`` cannot take those arguments.
        """
        if not callable(modifier):
            raise TypeError("`modifier` must be a callable")
        _check_signature(modifier, ModifierError, schema_id="", data={})
        self._add_hook(self._modifiers, self._global_modifiers, schema_id, modifier)

    def remove_modifier(self, *, schema_id: str | None = None, modifier: Modifier) -> None:
        """Stop running ``modifier``, for ``schema_id`` or (by default) for every schema."""
        self._remove_hook(self._modifiers, self._global_modifiers, schema_id, modifier)

    def add_listener(
        self, *, modified: bool = True, schema_id: str | None = None, listener: Listener
    ) -> None:
        """Call ``listener(logger=..., schema_id=..., data=...)`` after each event is written.

        ``modified=True`` (default) passes the data after the modifiers ran, ``False``
        the data as given to ``emit``. Without ``schema_id`` it applies to every schema,
        including those registered later. A coroutine function runs as a task on the
        running event loop; emitted from a thread without one, on the loop the logger
        last saw, or else to completion in the emitting thread. Listener failures are
        logged, never raised. Raises ``ListenerError`` if ``listener`` cannot take the
        arguments.
        """
        if not callable(listener):
            raise TypeError("`listener` must be a callable")
        _check_signature(listener, ListenerError, logger=self, schema_id="", data={})
        hooks, global_hooks = (
            (self._modified_listeners, self._global_modified_listeners)
            if modified
            else (self._unmodified_listeners, self._global_unmodified_listeners)
        )
        self._add_hook(hooks, global_hooks, schema_id, listener)
        self._remember_loop()

    def remove_listener(self, *, schema_id: str | None = None, listener: Listener) -> None:
        """Stop calling ``listener``, for ``schema_id`` or (by default) for every schema."""
        self._remove_hook(
            self._modified_listeners, self._global_modified_listeners, schema_id, listener
        )
        self._remove_hook(
            self._unmodified_listeners, self._global_unmodified_listeners, schema_id, listener
        )

    async def gather_listeners(self) -> list[Any]:
        """Wait for the listener tasks started so far; returns their results or exceptions."""
        return await asyncio.gather(*self._active_listeners, return_exceptions=True)

    def _add_hook(
        self, hooks: _Hooks, global_hooks: dict, schema_id: str | None, hook: Any
    ) -> None:
        if schema_id:
            self._hooks_for(hooks, global_hooks, schema_id)[hook] = None
        else:
            global_hooks[hook] = None
            for schema_hooks in hooks.values():
                schema_hooks[hook] = None
        self._invalidate_routes()

    def _remove_hook(
        self, hooks: _Hooks, global_hooks: dict, schema_id: str | None, hook: Any
    ) -> None:
        if schema_id:
            hooks.get(schema_id, {}).pop(hook, None)
        else:
            global_hooks.pop(hook, None)
            for schema_hooks in hooks.values():
                schema_hooks.pop(hook, None)
        self._invalidate_routes()

    @staticmethod
    def _hooks_for(hooks: _Hooks, global_hooks: dict, schema_id: str) -> dict:
        # A schema's hooks start as the global ones, when the schema is first seen.
        if schema_id not in hooks:
            hooks[schema_id] = dict(global_hooks)
        return hooks[schema_id]

    # -- emitting --------------------------------------------------------------------

    def emit(
        self,
        *,
        schema_id: str,
        data: dict[str, Any],
        timestamp_override: datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Validate ``data`` against the newest registered version of schema ``schema_id``
        and write its envelope to every handler; return the envelope.

        Returns None, writing nothing, if there is nowhere to send the event (no handlers
        and no listeners), if ``allowed_schemas`` excludes it, or if the schema is not
        registered (with a ``SchemaNotRegistered`` warning). Raises
        ``jsonschema.ValidationError`` if the data is invalid.
        ``timestamp_override`` replaces the current time; a naive datetime means UTC.
        ``metadata`` adds envelope fields set by the caller, never by the event's data
        (for example the server's ``__user__``); their names must start with ``__``.
        """
        routes = self._routes
        registry = self._registry
        if routes is None or (registry is not None and registry.revision != self._routes_revision):
            routes = self._build_routes()
        route = routes.get(schema_id)
        handlers = self._handler_list
        if route is None or not (handlers or route.listens):
            return self._unroutable(schema_id)
        return self._record(route, schema_id, data, timestamp_override, handlers, metadata)

    def record_event(
        self,
        schema_id: str,
        version: str | int,
        event: dict[str, Any],
        timestamp_override: datetime | None = None,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Record ``event`` against version ``version`` of schema ``schema_id`` (the
        jupyter_events 0.1.0 method) and return its envelope.

        Like ``emit``, but the version is named, and a schema or version that is not
        registered raises ``SchemaNotFound`` (a ``KeyError``).
        """
        handlers = self._handler_list
        if self._allowed is not None and schema_id not in self._allowed:
            return None
        version = str(version)
        if self._routes is None or (
            self._registry is not None and self._registry.revision != self._routes_revision
        ):
            self._build_routes()
        route = self._version_routes.get((schema_id, version))
        if route is None:
            schema = self.schemas.get(schema_id, version)  # raises SchemaNotFound
            route = self._version_routes[(schema_id, version)] = self._make_route(schema)
        if not (handlers or route.listens):
            return None
        return self._record(route, schema_id, event, timestamp_override, handlers, metadata)

    def _record(
        self,
        route: _Route,
        schema_id: str,
        data: dict[str, Any],
        timestamp_override: datetime | None,
        handlers: tuple[logging.Handler, ...],
        metadata: dict[str, Any] | None = None,
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
        precheck = route.precheck
        if precheck is None or not precheck(data):
            route.validator.validate(data)

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
            record = EventRecord(self._record_template, dumps(envelope), created)
            for handler in handlers:
                if handler.level <= _INFO:
                    handler.handle(record)
        if route.listens:
            try:
                self._notify(route, schema_id, data, original)
            except Exception as err:  # the event is written: report, never raise
                self.log.error("Event listeners for %s failed: %s", schema_id, err, exc_info=err)
        return envelope

    def _unroutable(self, schema_id: str) -> None:
        if self._allowed is not None and schema_id not in self._allowed:
            return None
        if self._registry is not None and schema_id in self._registry:
            return None  # registered, but nobody to tell
        if not self._handler_list and not (
            self._modified_listeners.get(schema_id)
            or self._unmodified_listeners.get(schema_id)
            or self._global_modified_listeners
            or self._global_unmodified_listeners
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
        self._routes = None

    def _build_routes(self) -> dict[str, _Route]:
        registry = self._registry
        routes: dict[str, _Route] = {}
        self._version_routes = {}
        if registry is not None:
            for schema_id in registry.schema_ids:
                if self._allowed is None or schema_id in self._allowed:
                    routes[schema_id] = self._make_route(registry.get(schema_id))
            self._routes_revision = registry.revision
        self._routes = routes
        return routes

    def _make_route(self, schema: EventSchema) -> _Route:
        schema_id = schema.id
        return _Route(
            schema,
            tuple(self._hooks_for(self._modifiers, self._global_modifiers, schema_id)),
            tuple(
                self._hooks_for(
                    self._modified_listeners, self._global_modified_listeners, schema_id
                )
            ),
            tuple(
                self._hooks_for(
                    self._unmodified_listeners, self._global_unmodified_listeners, schema_id
                )
            ),
        )

    # -- listeners -------------------------------------------------------------------

    def _remember_loop(self) -> None:
        # Listeners of events emitted from threads without a loop get scheduled on this one.
        with contextlib.suppress(RuntimeError):
            self._listener_loop = asyncio.get_running_loop()

    def _notify(self, route: _Route, schema_id: str, modified: Any, original: Any) -> None:
        calls = [(listener, modified) for listener in route.modified_listeners] + [
            (listener, original) for listener in route.unmodified_listeners
        ]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._listener_loop = loop
            self._start_listeners(schema_id, calls)
            return
        loop = self._listener_loop
        if loop is not None and loop.is_running():
            try:
                loop.call_soon_threadsafe(self._start_listeners, schema_id, calls)
                return
            except RuntimeError:  # closed between the check and the call
                pass
        self._run_listeners_here(schema_id, calls)

    def _call_listener(self, listener: Listener, schema_id: str, data: Any) -> Any:
        try:
            return listener(logger=self, schema_id=schema_id, data=data)
        except Exception as err:
            self._log_listener_error(listener, schema_id, err)
            return None

    def _start_listeners(self, schema_id: str, calls: list[tuple[Listener, Any]]) -> None:
        for listener, data in calls:
            result = self._call_listener(listener, schema_id, data)
            if not inspect.isawaitable(result):
                continue
            task = asyncio.ensure_future(result)
            self._active_listeners.add(task)
            task.add_done_callback(
                lambda task, listener=listener: self._listener_done(task, listener, schema_id)
            )

    def _listener_done(self, task: asyncio.Future[Any], listener: Listener, schema_id: str) -> None:
        self._active_listeners.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log_listener_error(listener, schema_id, task.exception())

    def _run_listeners_here(self, schema_id: str, calls: list[tuple[Listener, Any]]) -> None:
        awaitables = []
        for listener, data in calls:
            result = self._call_listener(listener, schema_id, data)
            if inspect.isawaitable(result):
                awaitables.append((listener, result))
        if not awaitables:
            return

        async def run_all() -> list[Any]:
            return await asyncio.gather(
                *(result for _, result in awaitables), return_exceptions=True
            )

        # A private loop, so that the thread's current event loop (if any) is untouched.
        loop = asyncio.new_event_loop()
        try:
            results = loop.run_until_complete(run_all())
        finally:
            loop.close()
        for (listener, _), result in zip(awaitables, results):
            if isinstance(result, BaseException):
                self._log_listener_error(listener, schema_id, result)

    def _log_listener_error(self, listener: Listener, schema_id: str, err: BaseException) -> None:
        self.log.error(
            "Event listener %r failed for %s: %s", listener, schema_id, err, exc_info=err
        )


def _check_metadata(metadata: dict[str, Any]) -> None:
    for name in metadata:
        if not (isinstance(name, str) and name.startswith("__")) or name in ENVELOPE_FIELDS:
            msg = (
                f"metadata field {name!r} must be named '__<name>' and not be one of "
                f"{', '.join(ENVELOPE_FIELDS)}"
            )
            raise ValueError(msg)


def _parsed(parse: Callable[[str], Any], text: str) -> Any:
    from .errors import EventSchemaLoadingError
    from .yaml import yaml

    try:
        return parse(text)
    except yaml.YAMLError as err:
        raise EventSchemaLoadingError(f"Could not parse schema: {err}") from err


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
