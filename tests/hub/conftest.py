"""One JupyterHub for the tests of this directory: three users, one with a named server too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deployment import Hub, Server

USERS = ["alice", "bob", "carol"]
SERVERS = [("alice", ""), ("bob", ""), ("carol", ""), ("carol", "second")]
# How often each server reports its activity to the hub, in seconds (JupyterHub: 300).
ACTIVITY_INTERVAL = 1


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    deployment = Hub(tmp_path_factory.mktemp("hub"), USERS, activity_interval=ACTIVITY_INTERVAL)
    try:
        deployment.start()
        deployment.start_servers(SERVERS)
        yield deployment
    finally:
        print(f"JupyterHub's log: {deployment.log_path}")
        deployment.stop()


@pytest.fixture(scope="module")
def servers(hub: Hub) -> dict[str, Server]:
    """Each server by its name on the hub: "alice", "bob", "carol", "carol/second"."""
    return {str(server): server for server in (hub.server(*spec) for spec in SERVERS)}


@pytest.fixture(scope="module")
def tokens(hub: Hub) -> dict[str, str]:
    """An API token of each user, and of the hub admin ("admin")."""
    return {user: hub.new_token(user) for user in [*USERS, "admin"]}
