"""POST jupyter-events-ext/snapshots: notebooks stored by content, outside the event stream."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from test_rest_api import check_response

from jupyter_events_ext.server.snapshots import SnapshotStore, check_notebook

ROUTE = "/jupyter-events-ext/snapshots"


def notebook(source: str = "x = 1") -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }


@pytest.fixture
def snapshot_dir(tmp_path) -> Path:
    return tmp_path / "snapshots"


@pytest.fixture
def snapshot_quota() -> dict[str, Any]:
    """The store's quota, if a test parametrizes it."""
    return {}


@pytest.fixture
def events_config(snapshot_dir, snapshot_quota) -> dict[str, Any]:
    return {"snapshot_dir": str(snapshot_dir), "snapshot_max_bytes": 4096, **snapshot_quota}


@pytest.fixture
def post_snapshot(jp_fetch):
    """POST a snapshot; every answer must be one rest-api.yml lists."""

    async def post(body: Any, **kwargs: Any):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        response = await jp_fetch(
            "jupyter-events-ext", "snapshots", method="POST", body=body, raise_error=False, **kwargs
        )
        if response.code != 403 or "headers" not in kwargs:
            check_response(ROUTE, "post", response.code, response.body)
        return response

    return post


async def test_a_snapshot_is_stored_under_its_hash_once(post_snapshot, snapshot_dir, read_sink):
    body = json.dumps(notebook()).encode()
    digest = hashlib.sha256(body).hexdigest()

    first = await post_snapshot(body)
    assert first.code == 201
    assert json.loads(first.body) == {"id": digest, "sha256": digest, "size": len(body)}
    stored = snapshot_dir / f"{digest}.ipynb"
    assert stored.read_bytes() == body
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    again = await post_snapshot(body)
    assert again.code == 200
    assert json.loads(again.body)["id"] == digest
    assert [p.name for p in snapshot_dir.iterdir()] == [f"{digest}.ipynb"]
    # The content stays out of the event stream.
    assert read_sink() == []


async def test_different_notebooks_are_stored_apart(post_snapshot, snapshot_dir):
    a = await post_snapshot(notebook("a = 1"))
    b = await post_snapshot(notebook("b = 2"))
    assert json.loads(a.body)["id"] != json.loads(b.body)["id"]
    assert len(list(snapshot_dir.glob("*.ipynb"))) == 2


async def test_an_oversized_snapshot_is_413_and_names_the_limit(post_snapshot, snapshot_dir):
    response = await post_snapshot(notebook("x" * 5000))
    assert response.code == 413
    message = json.loads(response.body)["message"]
    assert "over snapshot_max_bytes (4096 bytes)" in message
    assert not snapshot_dir.exists() or list(snapshot_dir.glob("*.ipynb")) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "snapshot is not valid JSON"),
        (b'{"nbformat": 4, "cells": [], "x": NaN}', "snapshot is not valid JSON: NaN is not JSON"),
        (b"[1, 2]", "a snapshot is a notebook: a JSON object"),
        (b'{"cells": []}', "'nbformat' must be 4"),
        (b'{"nbformat": 4, "cells": {}}', "'cells' must be an array"),
        (b'{"nbformat": 4, "cells": [1]}', "cell 0 is not a notebook cell"),
        (b'{"nbformat": 4, "cells": [], "metadata": []}', "'metadata' must be an object"),
    ],
    ids=["syntax", "nan", "array", "nbformat", "cells", "cell", "metadata"],
)
async def test_a_malformed_snapshot_is_400_saying_why(post_snapshot, snapshot_dir, body, message):
    response = await post_snapshot(body)
    assert response.code == 400
    assert message in json.loads(response.body)["message"]
    assert not snapshot_dir.exists() or list(snapshot_dir.glob("*.ipynb")) == []


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": ""}, {"Authorization": "token not-the-token"}],
    ids=["none", "bad"],
)
async def test_without_a_valid_token_it_is_403_and_stores_nothing(
    post_snapshot, snapshot_dir, headers
):
    response = await post_snapshot(notebook(), headers=headers)
    assert response.code == 403
    assert json.loads(response.body)["message"]
    assert not snapshot_dir.exists() or list(snapshot_dir.glob("*.ipynb")) == []


class WriteDenyingAuthorizer(Authorizer):
    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource):
        WriteDenyingAuthorizer.asked.append((action, resource))
        return action != "write"


@pytest.mark.parametrize("server_config", [{"authorizer_class": WriteDenyingAuthorizer}])
async def test_it_needs_write_on_events(post_snapshot, snapshot_dir, server_config):
    WriteDenyingAuthorizer.asked.clear()
    response = await post_snapshot(notebook())
    assert response.code == 403
    assert ("write", "events") in WriteDenyingAuthorizer.asked
    assert not snapshot_dir.exists() or list(snapshot_dir.glob("*.ipynb")) == []


@pytest.mark.parametrize("events_config", [{}])
async def test_without_a_snapshot_dir_it_is_404_saying_how_to_turn_it_on(
    post_snapshot, events_config
):
    response = await post_snapshot(notebook())
    assert response.code == 404
    assert "snapshot_dir" in json.loads(response.body)["message"]


def test_the_store_leaves_nothing_behind_when_a_write_fails(tmp_path, monkeypatch):
    store = SnapshotStore(tmp_path / "s")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        store.put(b"{}")
    assert list((tmp_path / "s").iterdir()) == []


def test_the_store_directory_is_the_owners_only(tmp_path):
    SnapshotStore(tmp_path / "s")
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700


def test_check_notebook_takes_a_real_notebook():
    check_notebook(notebook())


def body_of(nb: dict[str, Any]) -> bytes:
    return json.dumps(nb).encode()


FIRST, SECOND, THIRD = (body_of(notebook(f"x = {n}")) for n in range(3))
# Room for the first two snapshots and 100 bytes, not for the third.
QUOTA = len(FIRST) + len(SECOND) + 100


@pytest.mark.parametrize("snapshot_quota", [{"snapshot_quota_bytes": QUOTA}])
async def test_the_store_holds_no_more_than_its_quota(post_snapshot, snapshot_dir, snapshot_quota):
    assert (await post_snapshot(FIRST)).code == 201
    assert (await post_snapshot(SECOND)).code == 201
    refused = await post_snapshot(THIRD)
    assert refused.code == 413
    held = len(FIRST) + len(SECOND)
    assert json.loads(refused.body)["message"] == (
        f"the snapshot store is full: it holds {held} bytes, and {len(THIRD)} more would "
        f"pass snapshot_quota_bytes ({QUOTA} bytes)"
    )
    # The same notebook again takes no room: still answered.
    assert (await post_snapshot(FIRST)).code == 200
    assert sorted(p.name for p in snapshot_dir.iterdir()) == sorted(
        f"{hashlib.sha256(b).hexdigest()}.ipynb" for b in (FIRST, SECOND)
    )


def test_the_store_counts_what_it_held_before_a_restart(tmp_path):
    SnapshotStore(tmp_path, quota_bytes=1000).put(b"a" * 600)
    again = SnapshotStore(tmp_path, quota_bytes=1000)
    assert again.stored_bytes == 600
    with pytest.raises(OSError, match="snapshot store is full"):
        again.put(b"b" * 600)
