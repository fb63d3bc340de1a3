"""A real redis-server per test, on a free loopback port, and an EventLogger to feed it."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any, Callable

import pytest
import redis
from redis_server import REDIS_SERVER, RedisServer
from sink_schemas import SCHEMAS

from jupyter_events_ext.events.logger import EventLogger


@pytest.fixture(scope="session", autouse=True)
def _redis_server_installed() -> None:
    if not pathlib.Path(REDIS_SERVER).exists():
        pytest.fail(
            "redis-server is missing: apt-get install redis-server (scripts/test.sh does it)"
        )


@pytest.fixture
def make_redis_server(tmp_path: pathlib.Path) -> Iterator[Callable[..., RedisServer]]:
    servers: list[RedisServer] = []

    def make(durable: bool = False, start: bool = True) -> RedisServer:
        directory = tmp_path / f"redis-{len(servers)}"
        directory.mkdir()
        server = RedisServer(directory, durable=durable)
        servers.append(server)
        if start:
            server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def redis_server(make_redis_server: Callable[..., RedisServer]) -> RedisServer:
    return make_redis_server()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client()
    yield client
    client.close()


@pytest.fixture
def event_logger() -> Callable[..., EventLogger]:
    """An EventLogger with the test schemas registered, writing to the given handlers."""

    def make(*handlers: Any) -> EventLogger:
        logger = EventLogger(handlers=list(handlers))
        for schema in SCHEMAS:
            logger.register_event_schema(schema)
        return logger

    return make


@pytest.fixture
def closed_after() -> Iterator[Callable[[Any], Any]]:
    """Track the batching handlers a test makes; close each after it, even when it fails."""
    made: list[Any] = []

    def track(handler: Any) -> Any:
        made.append(handler)
        return handler

    yield track
    for handler in made:
        handler.flush_timeout = 0.5  # a handler whose destination is gone closes quickly
        handler.close()
