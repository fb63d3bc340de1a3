#!/usr/bin/env bash
# Sets everything up, then launches JupyterLab with jupyter_events_ext enabled.
# Events go to a JSON-lines file in the Jupyter data directory (its path is logged
# at start-up). Extra arguments are passed on to `jupyter lab`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

extra=()
if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi

printf '\n==> Launching JupyterLab (Ctrl-C to stop)\n'
exec jupyter lab "${extra[@]}" "$@"
