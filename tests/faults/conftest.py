"""Faults for real: a server process of its own per test, starved, killed and restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from redis_server import RedisServer
from server_process import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Make a ServerProcess with the given jupyter_server_config.py text (not started)."""
    made: list[ServerProcess] = []

    def make(config: str = "", name: str = "server", **options: Any) -> ServerProcess:
        process = ServerProcess(tmp_path / name, config, **options)
        made.append(process)
        return process

    yield make
    for process in made:
        process.stop()


@pytest.fixture
def make_redis_server(tmp_path: Path) -> Iterator[Callable[[], RedisServer]]:
    servers: list[RedisServer] = []

    def make() -> RedisServer:
        directory = tmp_path / f"redis-{len(servers)}"
        directory.mkdir()
        redis = RedisServer(directory)
        servers.append(redis)
        redis.start()
        return redis

    yield make
    for redis in servers:
        redis.stop()
