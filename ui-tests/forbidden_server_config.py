"""The Galata test server, with an authorizer that forbids the "events" resource."""

import os

from jupyter_server.auth.authorizer import AllowAllAuthorizer


class ForbidEvents(AllowAllAuthorizer):
    """Allows everything but this extension's routes, as an operator's policy might."""

    def is_authorized(self, handler, user, action, resource):
        return resource != "events"


load_subconfig(os.path.join(os.path.dirname(__file__), "jupyter_server_test_config.py"))  # noqa: F821
c.ServerApp.authorizer_class = ForbidEvents  # noqa: F821
