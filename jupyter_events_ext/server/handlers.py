"""REST handlers under ``{base_url}jupyter-events-ext/``."""

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

AUTH_RESOURCE = "events"


class SchemasHandler(APIHandler):
    """Lists the registered event schemas."""

    auth_resource = AUTH_RESOURCE

    @web.authenticated
    @authorized
    def get(self):
        self.finish({"schemas": []})


default_handlers = [
    (r"/jupyter-events-ext/schemas", SchemasHandler),
]
