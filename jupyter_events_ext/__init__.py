"""Validated, structured events for Jupyter applications and the JupyterLab UI.

This module only hands names on: the event library lives in ``.events``, the sinks
beyond a plain file in ``.sinks`` and the server extension in ``.server``, which is
imported lazily so that importing the library never imports jupyter_server or tornado.
"""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-events-ext"}]


def _jupyter_server_extension_points():
    from .server.app import EventsExtensionApp

    return [{"module": "jupyter_events_ext.server.app", "app": EventsExtensionApp}]
