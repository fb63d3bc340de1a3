"""REST handlers under ``{base_url}jupyter-events-ext/``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import __version__
from .recorder import EventRejected
from .websocket import AUTH_RESOURCE, StreamWebSocket

if TYPE_CHECKING:
    from .app import EventsExtensionApp


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class EventsAPIHandler(APIHandler):
    """Base for this extension's REST handlers."""

    auth_resource = AUTH_RESOURCE

    @property
    def events_app(self) -> EventsExtensionApp:
        return self.settings["jupyter_events_ext"]


class SchemasHandler(EventsAPIHandler):
    """Lists every registered schema version, and whether this client may post it."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        app = self.events_app
        registry = app.event_logger.schemas
        schemas = [
            {
                "id": schema_id,
                "version": version,
                "client": app.recorder.may_post(schema_id),
                "schema": registry.get(schema_id, version).schema,
            }
            for schema_id in sorted(registry.schema_ids)
            for version in registry.versions(schema_id)
        ]
        self.finish({"schemas": schemas})


class InfoHandler(EventsAPIHandler):
    """Says where events are recorded and which limits apply."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        from .app import describe_sink

        app = self.events_app
        self.finish(
            {
                "version": __version__,
                "sinks": [describe_sink(sink) for sink in app.sinks],
                "forward_server_events": app.forward_server_events,
                "stamp_user": app.stamp_user,
                "limits": {
                    "max_body_size": app.max_body_size,
                    "max_batch_size": app.max_batch_size,
                    "max_event_size": app.max_event_size,
                    "max_event_age": app.max_event_age,
                    "max_timestamp_skew": app.max_timestamp_skew,
                },
                "stream": {
                    "last_seq": app.stream.last_seq,
                    "subscribers": app.stream.subscriber_count,
                    "buffer_size": app.stream_buffer_size,
                    "subscriber_queue_size": app.subscriber_queue_size,
                },
            }
        )


class EventsHandler(EventsAPIHandler):
    """Records one event (204) or a batch of them (200 with a per-event account)."""

    @web.authenticated
    @authorized
    def post(self) -> None:
        app = self.events_app
        body = self.request.body
        if len(body) > app.max_body_size:
            raise web.HTTPError(
                413,
                f"request body is {len(body)} bytes, "
                f"over max_body_size ({app.max_body_size} bytes)",
            )
        try:
            payload = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:
            raise web.HTTPError(400, f"request body is not valid JSON: {err}") from None
        user = self.current_user.username
        # Only a request larger than the limit can hold an event larger than the limit.
        check_size = len(body) > app.max_event_size

        if not (isinstance(payload, dict) and "events" in payload):
            try:
                app.recorder.record(payload, user=user, check_size=check_size)
            except EventRejected as err:
                raise web.HTTPError(err.status, str(err)) from None
            self.set_status(204)
            self.finish()
            return

        events = payload["events"]
        if len(payload) > 1:
            extra = next(key for key in payload if key != "events")
            raise web.HTTPError(400, f"unknown field {extra!r}: a batch has only 'events'")
        if not isinstance(events, list):
            raise web.HTTPError(400, "'events' must be an array of events")
        if len(events) > app.max_batch_size:
            raise web.HTTPError(
                413, f"batch holds {len(events)} events, over max_batch_size ({app.max_batch_size})"
            )
        accepted = duplicates = 0
        rejected = []
        for index, event in enumerate(events):
            try:
                if app.recorder.record(event, user=user, check_size=check_size):
                    accepted += 1
                else:
                    duplicates += 1
            except EventRejected as err:
                rejected.append({"index": index, "message": str(err)})
        self.finish({"accepted": accepted, "duplicates": duplicates, "rejected": rejected})


default_handlers = [
    (r"/jupyter-events-ext/schemas", SchemasHandler),
    (r"/jupyter-events-ext/events", EventsHandler),
    (r"/jupyter-events-ext/info", InfoHandler),
    (r"/jupyter-events-ext/stream", StreamWebSocket),
]
