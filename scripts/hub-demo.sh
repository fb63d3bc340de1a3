#!/usr/bin/env bash
# Starts the JupyterHub the end-to-end tests run (tests/hub/), for a person to try: the hub,
# configurable-http-proxy, one redis-server and four users' servers configured as docs/operators/jupyterhub.md's
# "On a JupyterHub" says. Sets up what it needs first (idempotent, as setup.sh); Ctrl-C stops it.
# Arguments go to tests/hub/deployment.py (--port N for the hub's public port).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

need_debian_packages redis-server
hub_node_packages

step "Starting the hub"
exec python tests/hub/deployment.py "$@"
