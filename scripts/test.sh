#!/usr/bin/env bash
# Sets everything up (including Debian's chromium and redis-server when missing), then runs
# every check: ruff, prettier, eslint, pytest (the JupyterHub end to end, tests/hub/, among
# them), jest, the docs build, the package as released and the Galata browser tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Debian packages the tests run for real: chromium (Galata, the hub's browser) and
# redis-server (the Redis sink, the hub).
need_debian_packages chromium redis-server
hub_node_packages

step "Lint: ruff check, ruff format --check"
ruff check .
ruff format --check .

step "Lint: prettier --check, eslint"
jlpm prettier:check
jlpm eslint:check

step "Python tests (pytest)"
python -m pytest

step "Server tests on the oldest versions pyproject.toml declares (scripts/lowest_versions.py)"
# A venv of its own, with each runtime dependency at its lower bound (the test tools at their
# newest): a bound that is too low fails here. About a minute to install, two to run.
LOWEST="$VENV/lowest"
[ -x "$LOWEST/bin/python" ] || python -m venv "$LOWEST"
python scripts/lowest_versions.py > "$LOWEST/constraints.txt"
mapfile -t runtime < <(python scripts/lowest_versions.py --requirements)
"$LOWEST/bin/python" -m pip install --quiet -c "$LOWEST/constraints.txt" "${runtime[@]}" \
  pytest pytest-asyncio "pytest-jupyter[server]>=0.11" hypothesis "openapi-spec-validator>=0.7"
# Older jupyter_server releases give their own schemas integer versions, which jupyter_events warns
# about; the warning is jupyter_server's, not this package's.
PYTHONPATH="$ROOT" "$LOWEST/bin/python" -m pytest -p no:cacheprovider \
  -W "ignore::jupyter_events.utils.JupyterEventsVersionWarning" tests/server

step "jupyter_events 0.12.1's own test suite against the drop-in (scripts/upstream_suite.py)"
python scripts/upstream_suite.py

step "TypeScript tests (jest)"
jlpm test

step "Docs: sphinx-build, warnings as errors (a trait or setting without help text is one)"
rm -rf docs/_build
python -m sphinx -n -W --keep-going -q -b html docs docs/_build/html

bash scripts/check-package.sh

step "Browser tests (Galata on Debian's chromium)"
cd ui-tests
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi
# core-api-extension: the test-only labextension core-api.spec.ts installs (core_api_config.py).
jlpm build:extension
jlpm playwright test
