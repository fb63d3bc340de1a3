"""The Galata test server with core-api-extension installed: a test extension that
records events through JupyterLab's own event API only (app.serviceManager.events).

Its schema is one clients may post here (extra_schemas, allowed_client_schemas), as an
operator opens a third-party extension's events to this extension's delivery.
"""

import os

here = os.path.dirname(__file__)
load_subconfig(os.path.join(here, "jupyter_server_test_config.py"))  # noqa: F821

extension = os.path.join(here, "core-api-extension")
# Besides Galata's helper extension (a path of its own, set by configure_jupyter_server).
galata = c.LabServerApp.extra_labextensions_path  # noqa: F821
c.LabServerApp.extra_labextensions_path = [  # noqa: F821
    *([galata] if isinstance(galata, str) else galata),
    os.path.join(extension, "build"),
]
c.EventsExtensionApp.extra_schemas = [os.path.join(extension, "click.yaml")]  # noqa: F821
c.EventsExtensionApp.allowed_client_schemas = [  # noqa: F821
    "https://example.org/core-api-extension/click/v1"
]
