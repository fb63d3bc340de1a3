"""Forwarding of jupyter_server's own events into this extension's EventLogger."""

from __future__ import annotations

import copy
import json
import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .api_events import CLIENT_POSTED_FIELD, posted_by
from .path_policy import PathPolicy
from .recorder import USER_FIELD

if TYPE_CHECKING:
    from ..events.logger import EventLogger
    from .policy import ClientSchemaPolicy


def same_sink(a: logging.Handler, b: logging.Handler) -> bool:
    """Whether two handlers write to the same place: one object, one file or one stream."""
    if a is b:
        return True
    path_a, path_b = getattr(a, "baseFilename", None), getattr(b, "baseFilename", None)
    if path_a is not None and path_b is not None:
        return os.path.realpath(path_a) == os.path.realpath(path_b)
    stream_a, stream_b = getattr(a, "stream", None), getattr(b, "stream", None)
    return path_a is None and path_b is None and stream_a is not None and stream_a is stream_b


def _parse_server_timestamp(value: str) -> datetime:
    # jupyter_events writes isoformat() + "Z", e.g. "...+00:00Z"; a naive one means UTC.
    if value.endswith(("Z", "z")) and (len(value) > 6 and value[-7] in "+-"):
        value = value[:-1]
    elif value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


class ServerEventForwarder(logging.Handler):
    """A handler on jupyter_server's EventLogger that records each of its events again
    with this extension's EventLogger, so that they reach the same sinks and stream.

    A handler rather than a listener: it hears every schema, including those another
    extension registers later, in the order they are emitted. Sinks that both loggers
    write to are taken off jupyter_server's logger while forwarding, so that each
    server event reaches them once (with this extension's envelope).

    Paths in the forwarded events are as ``paths``, the operator's path policy, says.
    An event a client posted to ``POST /api/events`` is forwarded marked
    ``"__client_posted__": true`` (and, with ``stamp_user``, with the poster's
    ``__user__``): it never passes for one the server emitted.
    """

    def __init__(
        self,
        source: Any,
        target: EventLogger,
        policy: ClientSchemaPolicy,
        log: logging.Logger,
        exclude: list[dict[str, Any]] = (),  # type: ignore[assignment]
        *,
        paths: PathPolicy | None = None,
        stamp_user: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.policy = policy
        self.log = log
        self.paths = paths or PathPolicy("as-is", None)
        self.stamp_user = stamp_user
        # schema $id -> the data each excluded event matches: {field: allowed values}
        self._exclude: dict[str, list[dict[str, tuple[Any, ...]]]] = {}
        for entry in exclude:
            schema_id = entry.get("schema_id")
            if not isinstance(schema_id, str):
                raise ValueError(f"forward_exclude entry {entry!r} needs a 'schema_id' string")
            fields = {
                name: tuple(value) if isinstance(value, list) else (value,)
                for name, value in entry.items()
                if name != "schema_id"
            }
            self._exclude.setdefault(schema_id, []).append(fields)
        self._lent_sinks: list[logging.Handler] = []
        # Server schemas this extension's stricter loader refused: their events stay
        # with jupyter_server's own sinks, and are not forwarded.
        self._refused: set[str] = set()

    def start(self, sinks: list[logging.Handler]) -> None:
        for schema_id in list(self.source.schemas.schema_ids):
            self._adopt(schema_id)
        for handler in list(self.source.handlers or []):
            if any(same_sink(handler, sink) for sink in sinks):
                self.log.info(
                    "jupyter_events_ext: %r is a sink of jupyter_server's EventLogger too; "
                    "server events reach it once, forwarded by this extension.",
                    handler,
                )
                self.source.remove_handler(handler)
                self._lent_sinks.append(handler)
        self.source.register_handler(self)

    def _excluded(self, schema_id: str, capsule: dict[str, Any]) -> bool:
        for fields in self._exclude.get(schema_id, ()):
            if all(capsule.get(name) in values for name, values in fields.items()):
                return True
        return False

    def stop(self) -> None:
        self.source.remove_handler(self)
        for handler in self._lent_sinks:
            self.source.register_handler(handler)
        self._lent_sinks.clear()

    def _client_metadata(self) -> dict[str, Any] | None:
        """The envelope fields that mark an event a client posted to /api/events."""
        user = posted_by()
        if user is None:
            return None  # the server emitted it
        metadata: dict[str, Any] = {CLIENT_POSTED_FIELD: True}
        if self.stamp_user:
            metadata[USER_FIELD] = user
        return metadata

    def _adopt(self, schema_id: str) -> bool:
        """Register the server's schema ``schema_id`` with the target, as server-only;
        ``False`` (logged once) if the target refuses it."""
        self.policy.add_server_schema(schema_id)
        if schema_id in self._refused:
            return False
        try:
            schema = self.source.schemas.get(schema_id)
            if schema_id in self.target.schemas and str(schema.version) in (
                self.target.schemas.versions(schema_id)
            ):
                return True
            # Both libraries' EventSchema repr() is the schema as JSON.
            self.target.register_schema(json.loads(repr(schema)))
        except Exception as err:
            self._refused.add(schema_id)
            self.log.warning(
                "jupyter_events_ext: not forwarding jupyter_server's %s events: its schema "
                "was refused: %s",
                schema_id,
                err,
            )
            return False
        return True

    def emit(self, record: logging.LogRecord) -> None:
        capsule = record.msg
        if not isinstance(capsule, dict):
            return
        schema_id = capsule.get("__schema__")
        version = str(capsule.get("__schema_version__"))
        if self._excluded(schema_id, capsule):
            # Not forwarded, but a sink lent by jupyter_server's logger still gets it, as
            # it would have without this extension; it writes where this extension's
            # sinks do, so the path policy holds there too.
            if self._lent_sinks:
                treated = copy.copy(record)
                treated.msg = self.paths.treat(capsule)
                for sink in self._lent_sinks:
                    sink.handle(treated)
            return
        if schema_id in self._refused:
            return
        known = self.target.schemas
        if (schema_id not in known or version not in known.versions(schema_id)) and not (
            self._adopt(schema_id)
        ):
            return
        try:
            data = {key: value for key, value in capsule.items() if not key.startswith("__")}
            data = self.paths.treat(data)
            self.target.emit(
                schema_id=schema_id,
                data=data,
                version=capsule["__schema_version__"],
                timestamp_override=_parse_server_timestamp(capsule["__timestamp__"]),
                metadata=self._client_metadata(),
            )
        except Exception as err:
            # Never raise into jupyter_server's emit: the event is already recorded there.
            self.log.warning("jupyter_events_ext: could not forward a %s event: %s", schema_id, err)
