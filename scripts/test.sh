#!/usr/bin/env bash
# Sets everything up (including Debian's chromium and redis-server when missing), then runs
# every check: ruff, prettier, eslint, pytest (the JupyterHub end to end, tests/hub/, among
# them), jest and the Galata browser tests.
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

step "TypeScript tests (jest)"
jlpm test

step "Browser tests (Galata on Debian's chromium)"
cd ui-tests
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi
jlpm playwright test
