#!/usr/bin/env bash
# Sets up what the browser benchmark needs (the project, the ui-tests packages with
# Playwright, Debian's chromium), then runs benchmarks/bench_browser.js with any arguments.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

need_debian_packages chromium

step "Installing the ui-tests packages (Playwright, without a browser download)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd ui-tests && if [ "${CI:-}" = "true" ]; then jlpm install --immutable; else jlpm install; fi)

step "Browser benchmark"
exec node benchmarks/bench_browser.js "$@"
