"""What both WebSockets share: refusals before the upgrade in JSON, as the REST routes."""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest
from jupyter_server.auth.identity import IdentityProvider

SOCKETS = [("stream",), ("events", "socket")]


@pytest.mark.parametrize("route", SOCKETS, ids="/".join)
async def test_a_plain_get_is_answered_in_json(jp_fetch, route):
    response = await jp_fetch("jupyter-events-ext", *route, raise_error=False)
    assert response.code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {
        "message": "this is a WebSocket: connect with 'Connection: Upgrade, Upgrade: websocket'"
    }


class CookieLikeIdentityProvider(IdentityProvider):
    """Checks the origin of every request, as for a browser's cookie-authenticated ones
    (token-authenticated requests are exempt from origin checks)."""

    def should_check_origin(self, handler) -> bool:
        return True


@pytest.mark.parametrize("route", SOCKETS, ids="/".join)
@pytest.mark.parametrize("server_config", [{"identity_provider_class": CookieLikeIdentityProvider}])
async def test_a_cross_origin_upgrade_is_refused_in_json(
    http_server_client, jp_http_port, jp_base_url, jp_serverapp, server_config, route
):
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {jp_base_url}jupyter-events-ext/{'/'.join(route)} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{jp_http_port}\r\nOrigin: http://evil.example\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: token {jp_serverapp.identity_provider.token}\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 403 ")
    assert b"Content-Type: application/json" in head
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    body = await asyncio.wait_for(reader.readexactly(length), 10)
    assert json.loads(body) == {"message": "cross-origin WebSocket connections are not allowed"}
    writer.close()
