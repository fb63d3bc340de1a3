#!/usr/bin/env bash
# Installs what the project needs into ./.venv and builds the extension.
# Sourced by lab.sh and test.sh; safe to run again: it redoes only what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

step() { printf '\n==> %s\n' "$*"; }

# Installs the Debian packages named whose command is missing (through apt, with sudo
# unless root).
need_debian_packages() {
  local missing=() package
  for package in "$@"; do command -v "$package" >/dev/null || missing+=("$package"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    step "Installing Debian's ${missing[*]}"
    local sudo=""; [ "$(id -u)" = "0" ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The Node packages of the hub tests and demo: configurable-http-proxy, Playwright's library.
hub_node_packages() {
  step "Installing the hub's Node packages (tests/hub: configurable-http-proxy, playwright-core)"
  (cd "$ROOT/tests/hub" && export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 &&
    if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi)
}

command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js (18 or newer) is required" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  step "Creating the virtual environment in .venv"
  python3 -m venv "$VENV"
fi
export PATH="$VENV/bin:$PATH"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Reinstall only when the dependency declarations change.
stamp="$VENV/.jupyter_events_ext-installed"
wanted="$(cat pyproject.toml package.json $(ls yarn.lock 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  step "Installing the build tools (JupyterLab, hatchling)"
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet "jupyterlab>=4.6,<5" "hatchling>=1.5" \
    "hatch-nodejs-version>=0.3.2" "hatch-jupyter-builder>=0.10" editables

  step "Installing the JavaScript packages (jlpm install)"
  if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi

  step "Installing jupyter_events_ext in editable mode with its test and docs extras (builds the labextension)"
  python -m pip install --quiet --no-build-isolation -e ".[test,docs]"

  step "Linking the labextension for development"
  jupyter builder develop --overwrite .
  echo "$wanted" > "$stamp"
else
  step "Dependencies are up to date; rebuilding the extension (jlpm build)"
  jlpm build
fi
