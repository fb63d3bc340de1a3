"""Jupyter Server configuration for the Jupyter Notebook 7 tests (tests/notebook/).

The Galata server's configuration, run by ``jupyter notebook``: playwright.config.js
gives this server its port (``--port``) and its own sink and snapshot store (in its
environment), so that its events never mix with the JupyterLab server's.
"""

load_subconfig("jupyter_server_test_config.py")  # noqa: F821

# Galata's helpers reach the application as window.jupyterapp.
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821
