"""Test only: the server half of core-api-extension, as a third-party extension has one.

It registers the extension's schema with jupyter_server's own event logger, so that
jupyter_server's POST /api/events (where JupyterLab's own event manager posts) takes
its events.
"""

from pathlib import Path


def _jupyter_server_extension_points():
    return [{"module": "core_api_extension"}]


def _load_jupyter_server_extension(serverapp):
    serverapp.event_logger.register_event_schema(Path(__file__).with_name("click.yaml"))
