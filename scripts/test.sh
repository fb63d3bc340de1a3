#!/usr/bin/env bash
# Sets everything up (including Debian's chromium when missing), then runs every
# check: ruff, prettier, eslint, pytest, jest, the docs build, the package as released
# and the Galata browser tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# Debian packages the tests run for real: chromium (Galata) and redis-server (Redis sink).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  step "Installing Debian's ${missing[*]} for the tests"
  sudo=""; [ "$(id -u)" = "0" ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
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

step "Docs: sphinx-build, warnings as errors (a trait or setting without help text is one)"
rm -rf docs/_build
python -m sphinx -n -W --keep-going -q -b html docs docs/_build/html

bash scripts/check-package.sh

step "Browser tests (Galata on Debian's chromium)"
cd ui-tests
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi
jlpm playwright test
