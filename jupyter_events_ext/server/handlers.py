"""REST handlers under ``{base_url}jupyter-events-ext/``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..events.errors import SinkError
from .event_shape import EventRejected, clip, quote

if TYPE_CHECKING:
    from ..events.schema_registry import SchemaRegistry
    from .policy import ClientSchemaPolicy
    from .recorder import ClientEventRecorder
    from .stream import EventStream

# The resource jupyter_server's authorizer is asked about, for every route and the socket.
AUTH_RESOURCE = "events"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class SchemasHandler(APIHandler):
    """Lists every registered schema version, and whether this client may post it."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, registry: SchemaRegistry, policy: ClientSchemaPolicy) -> None:
        self.registry = registry
        self.policy = policy

    @web.authenticated
    @authorized
    def get(self) -> None:
        registry = self.registry
        schemas = [
            {
                "id": schema_id,
                "version": version,
                "client": self.policy.may_post(schema_id, version),
                "schema": registry.get(schema_id, version).schema,
            }
            for schema_id in sorted(registry.schema_ids)
            for version in registry.versions(schema_id)
        ]
        self.finish({"schemas": schemas})


class InfoHandler(APIHandler):
    """Says where events are recorded, which limits apply and how the live stream is."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, info: dict[str, Any], stream: EventStream) -> None:
        self.info = info
        self.stream = stream

    @web.authenticated
    @authorized
    def get(self) -> None:
        stream = self.stream
        live = {
            "last_seq": stream.last_seq,
            "subscribers": stream.subscriber_count,
            "buffered_bytes": stream.buffered_bytes,
        }
        self.finish(
            {**self.info, "run_id": stream.run_id, "stream": {**live, **self.info["stream"]}}
        )


class EventsHandler(APIHandler):
    """Records one event (204) or a batch of them (200 with a per-event account)."""

    auth_resource = AUTH_RESOURCE

    def initialize(
        self, recorder: ClientEventRecorder, max_body_size: int, max_batch_size: int
    ) -> None:
        self.recorder = recorder
        self.max_body_size = max_body_size
        self.max_batch_size = max_batch_size

    @web.authenticated
    @authorized
    def post(self) -> None:
        recorder = self.recorder
        body = self.request.body
        if len(body) > self.max_body_size:
            raise web.HTTPError(
                413,
                f"request body is {len(body)} bytes, "
                f"over max_body_size ({self.max_body_size} bytes)",
            )
        try:
            payload = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:
            raise web.HTTPError(400, f"request body is not valid JSON: {clip(str(err))}") from None
        user = self.current_user.username

        if not (isinstance(payload, dict) and "events" in payload):
            try:
                with recorder.request():
                    recorder.record(payload, user=user)
            except EventRejected as err:
                raise web.HTTPError(err.status, str(err)) from None
            except SinkError as err:
                self.log.error("jupyter_events_ext: %s", err)
                raise web.HTTPError(503, _not_recorded(err)) from None
            self.set_status(204)
            self.finish()
            return

        events = payload["events"]
        if len(payload) > 1:
            extra = next(key for key in payload if key != "events")
            raise web.HTTPError(400, f"unknown field {quote(extra)}: a batch has only 'events'")
        if not isinstance(events, list):
            raise web.HTTPError(400, "'events' must be an array of events")
        if len(events) > self.max_batch_size:
            raise web.HTTPError(
                413,
                f"batch holds {len(events)} events, over max_batch_size ({self.max_batch_size})",
            )
        accepted = duplicates = 0
        rejected: list[dict[str, Any]] = []
        failed: tuple[int, SinkError] | None = None
        try:
            with recorder.request():
                for index, event in enumerate(events):
                    try:
                        if recorder.record(event, user=user):
                            accepted += 1
                        else:
                            duplicates += 1
                    except EventRejected as err:
                        rejected.append({"index": index, "message": str(err)})
                    except SinkError as err:
                        # A sink that writes event by event failed: what came before is
                        # recorded, what follows is not tried.
                        failed = (index, err)
                        break
        except SinkError as err:
            # A sink that writes the request at once failed: none of it is recorded there.
            failed, accepted = (0, err), 0
        if failed is None:
            self.finish({"accepted": accepted, "duplicates": duplicates, "rejected": rejected})
            return
        index, err = failed
        self.log.error("jupyter_events_ext: %s", err)
        # A retry of the whole batch is safe for events with ids: the recorded ones come
        # back as duplicates.
        self.set_status(503)
        self.finish(
            {
                "message": f"event {index}: {_not_recorded(err)}",
                "accepted": accepted,
                "duplicates": duplicates,
                "rejected": rejected,
                "not_recorded": len(events) - accepted - duplicates - len(rejected),
            }
        )


def _not_recorded(err: SinkError) -> str:
    return f"not recorded, retry later: {err}"


default_handlers = [
    (r"/jupyter-events-ext/schemas", SchemasHandler),
    (r"/jupyter-events-ext/events", EventsHandler),
    (r"/jupyter-events-ext/info", InfoHandler),
]
