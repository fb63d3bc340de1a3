"""The server extension application."""

from jupyter_server.extension.application import ExtensionApp

from .handlers import default_handlers


class EventsExtensionApp(ExtensionApp):
    """Hosts the project's EventLogger inside Jupyter Server."""

    name = "jupyter_events_ext"

    def initialize_handlers(self):
        self.handlers.extend(default_handlers)
