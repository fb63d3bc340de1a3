"""jupyter_server's own ``POST /api/events``, guarded.

jupyter_server lets any client with ``write`` on ``events`` emit an event of any schema
its logger knows, jupyter_server's own included, with any data and any time; forwarded,
such an event would pass for one the server emitted. This extension serves the same
route in its place (an extension's routes come before jupyter_server's own in tornado's
rules) with jupyter_server's handler, behind the checks of ``ClientSchemaPolicy`` and
the recorder's limits; and what it forwards of the events posted there is marked.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.services.events.handlers import EventHandler, get_timestamp
from tornado import web

from .event_shape import EventRejected, clip

if TYPE_CHECKING:
    from .policy import ClientSchemaPolicy
    from .recorder import ClientEventRecorder

# Envelope field of a forwarded event that a client posted to /api/events.
CLIENT_POSTED_FIELD = "__client_posted__"

# Who posted the event being emitted, while POST /api/events emits it (None otherwise):
# read by the forwarder, which jupyter_server's emit calls in the same context.
_posted_by: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jupyter_events_ext_posted_by", default=None
)


def posted_by() -> str | None:
    """The user whose ``POST /api/events`` is emitting the current event, if any."""
    return _posted_by.get()


@contextlib.contextmanager
def posting(user: str) -> Iterator[None]:
    token = _posted_by.set(user)
    try:
        yield
    finally:
        _posted_by.reset(token)


class GuardedEventHandler(EventHandler):
    """jupyter_server's ``EventHandler``, once the policy and the limits let the event
    through: jupyter_server's own schemas refused (or every schema, as the policy
    says), data over ``max_event_size`` refused (413), a timestamp outside
    ``max_event_age`` / ``max_timestamp_skew`` refused (400); the rest is jupyter_server's
    to check and emit, and its answers stay its own."""

    def initialize(self, policy: ClientSchemaPolicy, recorder: ClientEventRecorder) -> None:
        self.policy = policy
        self.recorder = recorder

    _payload: Any = None

    def get_json_body(self) -> Any:
        # Parsed once, for the checks and for jupyter_server's handler.
        if self._payload is None:
            self._payload = super().get_json_body()
        return self._payload

    @web.authenticated
    @authorized
    async def post(self) -> None:
        payload = self.get_json_body()
        if isinstance(payload, dict):
            try:
                self._check(payload)
            except EventRejected as err:
                raise web.HTTPError(err.status, str(err)) from None
        with posting(self.current_user.username):
            try:
                await super().post()
            except web.HTTPError as err:
                # jupyter_server before 2.14 answers 500 to what its emit raised (data off
                # its schema, a schema it does not know); later ones answer 400, as here.
                if err.status_code != 500 or err.__cause__ is None:
                    raise
                raise web.HTTPError(400, clip(str(err.__cause__))) from None

    def _check(self, payload: dict[str, Any]) -> None:
        schema_id = payload.get("schema_id")
        if not self.policy.may_post_to_api_events(schema_id):
            raise EventRejected(self.policy.api_events_refusal(schema_id))
        if "data" in payload:
            try:
                self.recorder.check_size(payload["data"])
            except RecursionError:
                raise EventRejected("event data is nested too deeply") from None
        if isinstance(payload.get("timestamp"), str):
            try:
                moment = get_timestamp(payload)
            except web.HTTPError:
                return  # jupyter_server says what is wrong with it
            if moment is not None:
                self.recorder.check_timestamp(moment, payload["timestamp"])


default_handlers = [(r"/api/events", GuardedEventHandler)]
