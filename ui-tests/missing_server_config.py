"""The Galata test server without this package's server extension, as if it were not installed."""

import os

load_subconfig(os.path.join(os.path.dirname(__file__), "jupyter_server_test_config.py"))  # noqa: F821
c.ServerApp.jpserver_extensions = {"jupyter_events_ext": False}  # noqa: F821
