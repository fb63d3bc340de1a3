"""As core_api_config.py, but as JupyterLab alone serves core-api-extension: its
schema is registered with jupyter_server's own event logger (by the extension's server
half), so that POST /api/events takes its events, and not opened to clients here.

The test that starts it disables this extension's IEventManager plugin as a user
would (jupyter labextension disable).
"""

import os
import sys

here = os.path.dirname(__file__)
load_subconfig(os.path.join(here, "core_api_config.py"))  # noqa: F821

c.EventsExtensionApp.extra_schemas = []  # noqa: F821
c.EventsExtensionApp.allowed_client_schemas = []  # noqa: F821
sys.path.insert(0, os.path.join(here, "core-api-extension"))
c.ServerApp.jpserver_extensions.update({"core_api_extension": True})  # noqa: F821
