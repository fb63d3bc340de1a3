import os

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_events_ext": True},
            "allow_unauthenticated_access": False,
        }
    }


@pytest.fixture
def fsyncs(monkeypatch):
    """What this process puts on the disk: each real fsync, by the path of what it syncs."""
    synced: list[str] = []
    real = os.fsync

    def counted(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return synced
