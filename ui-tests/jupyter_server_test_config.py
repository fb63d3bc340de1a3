"""Jupyter Server configuration for the Galata tests."""

import logging
import os
from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.allow_root = True  # noqa: F821
# playwright.config.js chooses the port, so that checkouts can test side by side.
c.ServerApp.port = int(os.environ.get("JUPYTER_EVENTS_EXT_GALATA_PORT", "8888"))  # noqa: F821
# Each run starts from an empty directory of notebooks.
c.ServerApp.root_dir = mkdtemp(prefix="galata-root-")  # noqa: F821

# The tests read what the server recorded: the JSON-lines sink goes to the file
# playwright.config.js names (a fresh one per run), not the user's data directory.
sink = os.environ.get("JUPYTER_EVENTS_EXT_SINK") or os.path.join(
    mkdtemp(prefix="galata-events-"), "events.jsonl"
)
os.makedirs(os.path.dirname(sink), exist_ok=True)
c.EventsExtensionApp.event_handlers = [logging.FileHandler(sink, encoding="utf-8")]  # noqa: F821

# Notebook snapshots are stored (off unless a directory is given), where the tests look.
c.EventsExtensionApp.snapshot_dir = os.environ.get(  # noqa: F821
    "JUPYTER_EVENTS_EXT_SNAPSHOTS"
) or mkdtemp(prefix="galata-snapshots-")

# capture.spec.ts records paths as is, to tell notebooks apart: the operator's policy
# must allow it (the default, "hashed", refuses a client's path recorded less protected).
c.EventsExtensionApp.path_mode = "as-is"  # noqa: F821
