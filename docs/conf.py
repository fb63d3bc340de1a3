"""Sphinx configuration: the manual, with references generated from the code (see _ext/)."""

import sys
from pathlib import Path

from jupyter_events_ext import __version__

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "jupyter_events_ext"
author = "jupyter_events_ext contributors"
copyright = "jupyter_events_ext contributors"
version = release = __version__

extensions = [
    "myst_nb",  # MyST Markdown pages and the analysis notebook
    "sphinxcontrib.mermaid",  # the diagrams of architecture.md, as GitHub shows them
    "traitlets.config.sphinxdoc",  # the configtrait directive and role
    "config_reference",
    "event_catalog",
    "rest_reference",
    "settings_reference",
]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
myst_fence_as_directive = ["mermaid"]
# The notebook is shown with the outputs committed with it; tests/analysis/test_notebook.py
# executes it on every CI run and checks those outputs are the ones it computes today.
nb_execution_mode = "off"

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
nitpicky = True

html_theme = "pydata_sphinx_theme"
html_title = "jupyter_events_ext"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
