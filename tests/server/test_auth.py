"""Every route needs authentication and authorization on the resource "events"."""

from __future__ import annotations

import json

import pytest
from jupyter_server.auth.authorizer import Authorizer
from posted_events import command
from tornado.httpclient import HTTPClientError

ROUTES = [
    ("GET", "schemas", "read"),
    ("GET", "info", "read"),
    ("POST", "events", "write"),
    ("WS", "stream", "execute"),
    ("WS", "events/socket", "write"),
]


class RecordingAuthorizer(Authorizer):
    """Allows everything and remembers what it was asked."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource):
        RecordingAuthorizer.asked.append((action, resource))
        return True


class DenyingAuthorizer(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return False


async def request(jp_fetch, jp_ws_fetch, method: str, route: str, headers: dict):
    """Make the request; return the status code (101 for an opened WebSocket)."""
    try:
        if method == "WS":
            ws = await jp_ws_fetch("jupyter-events-ext", route, headers=headers)
            ws.close()
            return 101
        body = json.dumps(command()) if method == "POST" else None
        response = await jp_fetch(
            "jupyter-events-ext", route, method=method, body=body, headers=headers
        )
        return response.code
    except HTTPClientError as error:
        code, body = error.code, error.response.body
    assert code != 403 or json.loads(body)["message"]
    return code


@pytest.mark.parametrize(("method", "route", "action"), ROUTES)
@pytest.mark.parametrize(
    "headers",
    [{"Authorization": ""}, {"Authorization": "token not-the-token"}],
    ids=["none", "bad"],
)
async def test_without_a_valid_token_every_route_is_403(
    jp_fetch, jp_ws_fetch, read_sink, method, route, action, headers
):
    assert await request(jp_fetch, jp_ws_fetch, method, route, headers) == 403
    assert read_sink() == []


@pytest.mark.parametrize(("method", "route", "action"), ROUTES)
@pytest.mark.parametrize("server_config", [{"authorizer_class": DenyingAuthorizer}])
async def test_a_denying_authorizer_gets_403_on_every_route(
    jp_fetch, jp_ws_fetch, read_sink, method, route, action, server_config
):
    assert await request(jp_fetch, jp_ws_fetch, method, route, {}) == 403
    assert read_sink() == []


@pytest.mark.parametrize(("method", "route", "action"), ROUTES)
@pytest.mark.parametrize("server_config", [{"authorizer_class": RecordingAuthorizer}])
async def test_the_authorizer_is_asked_the_right_action_on_events(
    jp_fetch, jp_ws_fetch, method, route, action, server_config
):
    RecordingAuthorizer.asked.clear()
    assert await request(jp_fetch, jp_ws_fetch, method, route, {}) in (101, 200, 204)
    assert RecordingAuthorizer.asked == [(action, "events")]
