#!/usr/bin/env bash
# Checks the package as a release makes it. Builds the sdist and the wheel from a clean copy of
# this tree (what a fresh clone holds, so the labextension is the production build, as
# jupyter-releaser's build-python makes it), checks them with twine and checks what they hold,
# then installs the wheel into a new virtual environment and checks, with no Node.js on PATH,
# that Jupyter finds the server extension enabled and the labextension OK.
# Run by test.sh after setup.sh, with .venv (build, twine, the build backend) first on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n==> %s\n' "$*"; }

step "Package: python -m build (sdist, then the wheel) from a clean copy of the tree"
mkdir "$work/src"
# Tracked files and new ones git does not ignore: what the next commit's clone would hold.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
  while IFS= read -r -d '' file; do
    if [ -e "$ROOT/$file" ]; then printf '%s\0' "$file"; fi
  done | (cd "$ROOT" && xargs -0 cp --parents -t "$work/src")
# The JavaScript packages are the ones setup.sh installed from the same yarn.lock, linked
# (not copied) so that jlpm install finds nothing to do; the build itself (tsc, webpack in
# production mode) runs in full. No isolated build environment: .venv holds the build
# backend pyproject.toml names.
cp -al "$ROOT/node_modules" "$work/src/node_modules"
mkdir -p "$work/src/.yarn" && cp "$ROOT/.yarn/install-state.gz" "$work/src/.yarn/"
(cd "$work/src" && YARN_CACHE_FOLDER="$ROOT/.yarn/cache" \
  python -m build --no-isolation --outdir "$work/dist" . >"$work/build.log" 2>&1) ||
  { tail -40 "$work/build.log"; exit 1; }
ls -l "$work/dist"
echo "built in ${SECONDS} s"

# What jupyter-releaser's check-python runs on the distributions (its defaults).
step "Package: twine check --strict, validate-pyproject, check-wheel-contents"
twine check --strict "$work"/dist/*
validate-pyproject "$ROOT/pyproject.toml"
check-wheel-contents --config "$ROOT/pyproject.toml" "$work/dist"

step "Package: the sdist and the wheel hold what the tree ships"
python "$ROOT/scripts/check_dist.py" "$ROOT" "$work"/dist/*.tar.gz "$work"/dist/*.whl

step "Package: the wheel in a new virtual environment, without Node.js"
python -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --quiet --disable-pip-version-check "$work"/dist/*.whl \
  "jupyterlab>=4.0.0,<5"
mkdir "$work/home"
clean() { env -i PATH="$work/venv/bin" HOME="$work/home" "$@"; }
clean python -c 'import shutil; assert shutil.which("node") is None, shutil.which("node")'
clean python -c 'import jupyter_events_ext.events'
# Both lists colour their words; the checks read them plain.
plain() { sed 's/\x1b\[[0-9;]*m//g'; }
servers="$(clean jupyter server extension list 2>&1 | plain)"
labs="$(clean jupyter labextension list 2>&1 | plain)"
printf '%s\n%s\n' "$servers" "$labs" | grep -E 'jupyter_events_ext|jupyter-events-ext'
grep -Eq 'jupyter_events_ext enabled' <<<"$servers" || { echo "$servers"; exit 1; }
grep -Eq 'jupyter_events_ext [0-9][^ ]* OK' <<<"$servers" || { echo "$servers"; exit 1; }
grep -Eq 'jupyter-events-ext v[0-9][^ ]* enabled OK' <<<"$labs" || { echo "$labs"; exit 1; }
echo "The wheel installs, and Jupyter sees both halves enabled and OK (${SECONDS} s in all)."
