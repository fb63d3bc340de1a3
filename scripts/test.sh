#!/usr/bin/env bash
# Sets everything up (including Debian's chromium when missing), then runs every
# check: ruff, prettier, eslint, pytest, jest and the Galata browser tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

if ! command -v chromium >/dev/null; then
  step "Installing Debian's chromium for the browser tests"
  sudo=""; [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium
fi

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
