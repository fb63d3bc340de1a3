"""Notebook snapshots: stored by content (SHA-256) outside the event stream.

The browser posts a whole notebook; the store keeps it under its hash and answers with
that hash, which the browser then records in a small ``notebook-snapshot`` event. Events
stay small, and the same notebook saved twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .bodies import BoundedBodyHandler
from .event_shape import clip
from .rest import AUTH_RESOURCE


class StoreFull(OSError):
    """The store holds as many bytes as its quota allows; ``str()`` says how many."""


class SnapshotStore:
    """A directory of snapshots, each ``<sha256>.ipynb``, readable by its owner only, that
    holds at most ``quota_bytes`` bytes of them (None: no quota).

    The bytes held are counted once, from the directory, when the store opens, then kept
    up to date by ``put``: snapshots that another process adds or removes meanwhile are
    not seen until the next start.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, quota_bytes: int | None = None
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.quota_bytes = quota_bytes
        self.stored_bytes = sum(path.stat().st_size for path in self.directory.glob("*.ipynb"))

    def path_of(self, digest: str) -> Path:
        return self.directory / f"{digest}.ipynb"

    def put(self, content: bytes) -> tuple[str, bool]:
        """Store ``content`` under its SHA-256; return it and whether it was new.

        Written to a temporary file and renamed, so that a reader never sees half a
        snapshot and a crash leaves none. Raises ``StoreFull`` when a new snapshot would
        take the store past its quota.
        """
        digest = hashlib.sha256(content).hexdigest()
        target = self.path_of(digest)
        if target.exists():
            return digest, False
        if self.quota_bytes is not None and self.stored_bytes + len(content) > self.quota_bytes:
            raise StoreFull(
                f"the snapshot store is full: it holds {self.stored_bytes} bytes, and "
                f"{len(content)} more would pass snapshot_quota_bytes ({self.quota_bytes} bytes)"
            )
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stored_bytes += len(content)
        return digest, True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_notebook(payload: Any) -> None:
    """Raise ``ValueError`` unless ``payload`` has the shape of an nbformat 4 notebook."""
    if not isinstance(payload, dict):
        raise ValueError("a snapshot is a notebook: a JSON object")
    if payload.get("nbformat") != 4:
        raise ValueError("a snapshot is an nbformat 4 notebook: 'nbformat' must be 4")
    cells = payload.get("cells")
    if not isinstance(cells, list):
        raise ValueError("a snapshot is a notebook: 'cells' must be an array")
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise ValueError(f"cell {index} is not a notebook cell (an object with 'cell_type')")
    if not isinstance(payload.get("metadata", {}), dict):
        raise ValueError("a snapshot is a notebook: 'metadata' must be an object")


class SnapshotsHandler(BoundedBodyHandler):
    """Stores a notebook snapshot (201) and answers with its id and hash."""

    auth_resource = AUTH_RESOURCE
    body_name = "snapshot"
    limit_name = "snapshot_max_bytes"

    def initialize(self, store: SnapshotStore | None, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = self.body_limit = max_bytes

    @web.authenticated
    @authorized
    def post(self) -> None:
        if self.store is None:
            raise web.HTTPError(
                404,
                "notebook snapshots are off on this server: "
                "set c.EventsExtensionApp.snapshot_dir to store them",
            )
        body = self.body
        if len(body) > self.max_bytes:
            raise web.HTTPError(
                413,
                f"snapshot is {len(body)} bytes, over snapshot_max_bytes ({self.max_bytes} bytes)",
            )
        try:
            payload = json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:
            raise web.HTTPError(400, f"snapshot is not valid JSON: {clip(str(err))}") from None
        try:
            check_notebook(payload)
        except ValueError as err:
            raise web.HTTPError(400, str(err)) from None
        try:
            digest, created = self.store.put(body)
        except StoreFull as err:
            # The client's snapshot is fine; this server keeps no more (a retry won't help).
            raise web.HTTPError(413, str(err)) from None
        except OSError as err:
            self.log.error("jupyter_events_ext: cannot store a snapshot: %s", err)
            raise web.HTTPError(503, f"snapshot not stored, retry later: {err.strerror}") from None
        self.set_status(201 if created else 200)
        self.finish({"id": digest, "sha256": digest, "size": len(body)})


default_handlers = [
    (r"/jupyter-events-ext/snapshots", SnapshotsHandler),
]
