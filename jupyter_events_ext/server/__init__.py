"""The Jupyter Server extension that hosts the EventLogger and serves it over HTTP."""
