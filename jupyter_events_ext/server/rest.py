"""REST handlers under ``{base_url}jupyter-events-ext/``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .bodies import BoundedBodyHandler
from .event_shape import EventRejected
from .ingest import record_body

if TYPE_CHECKING:
    from ..events.schema_registry import SchemaRegistry
    from .ingest import Limits
    from .policy import ClientSchemaPolicy
    from .recorder import ClientEventRecorder
    from .stream import EventStream

# The resource jupyter_server's authorizer is asked about, for every route and the socket.
AUTH_RESOURCE = "events"


class SchemasHandler(BoundedBodyHandler):
    """Lists every registered schema version, whether this client may post it, and whether
    it is jupyter_server's own."""

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
                "server": self.policy.is_server_schema(schema_id),
                "schema": registry.get(schema_id, version).schema,
            }
            for schema_id in sorted(registry.schema_ids)
            for version in registry.versions(schema_id)
        ]
        self.finish({"schemas": schemas})


class InfoHandler(BoundedBodyHandler):
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


class EventsHandler(BoundedBodyHandler):
    """Records one event (204) or a batch of them (200 with a per-event account)."""

    auth_resource = AUTH_RESOURCE
    limit_name = "max_body_size"

    def initialize(self, recorder: ClientEventRecorder, limits: Limits) -> None:
        self.recorder = recorder
        self.limits = limits
        self.body_limit = limits.max_body_size

    @web.authenticated
    @authorized
    def post(self) -> None:
        body = self.body
        try:
            account = record_body(
                self.recorder,
                body,
                size=len(body),
                user=self.current_user.username,
                limits=self.limits,
            )
        except EventRejected as err:
            raise web.HTTPError(err.status, str(err)) from None
        if account.failure is not None:
            self.log.error("jupyter_events_ext: %s", account.failure)
        self.set_status(account.status)
        if account.reply is None:
            self.finish()
        else:
            self.finish(account.reply)


default_handlers = [
    (r"/jupyter-events-ext/schemas", SchemasHandler),
    (r"/jupyter-events-ext/events", EventsHandler),
    (r"/jupyter-events-ext/info", InfoHandler),
]
