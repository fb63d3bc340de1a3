"""Jupyter Server configuration for the Galata tests."""

from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.allow_root = True  # noqa: F821
# Each run starts from an empty directory of notebooks.
c.ServerApp.root_dir = mkdtemp(prefix="galata-root-")  # noqa: F821
