"""Recorded event files, a real redis-server, and the export command, for the analysis tests."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result
from redis_server import REDIS_SERVER, RedisServer

from jupyter_events_ext.cli import main


@pytest.fixture(scope="session")
def validated_events(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """3,000 events written by a real EventLogger with the shipped schemas (read-only)."""
    from recorded_events import write_validated

    return write_validated(tmp_path_factory.mktemp("recorded") / "events.jsonl", 3000)


@pytest.fixture
def redis_server(tmp_path: pathlib.Path) -> Iterator[RedisServer]:
    if not pathlib.Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is missing: apt-get install redis-server (scripts/test.sh does)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def export_cli() -> Callable[..., Result]:
    """Run ``jupyter events-ext export ARGS`` in-process; the result has output and exit code."""

    def run(*args: Any) -> Result:
        return CliRunner().invoke(main, ["export", *map(str, args)])

    return run
