"""Run jupyter_events' own test suite against the drop-in (jupyter_events_ext.events).

Downloads the sdist of jupyter_events UPSTREAM from the package index, copies its tests/
and its pytest configuration, renames what they import (the module, its CLI) to the
drop-in's, runs them with this environment's Python and compares the outcome with
EXPECTED_FAILURES: the tests that fail on purpose, each with its reason (the docs page
docs/extension-authors/migrating.md names each). Exits 1 if any other test fails, or if
an expected failure passes (then the list, and that page, are out of date).

    python scripts/upstream_suite.py [--sdist jupyter_events-0.12.1.tar.gz] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import tomllib

UPSTREAM = "jupyter-events==0.12.1"

# Longest names first: each is replaced once, at word boundaries.
RENAMES = {
    # Where the drop-in keeps the warning jupyter_events keeps in its utils module.
    "jupyter_events.utils": "jupyter_events_ext.events.errors",
    "jupyter_events": "jupyter_events_ext.events",
    # The command: `jupyter events-ext validate` is upstream's `jupyter events validate`.
    "jupyter-events": "jupyter-events-ext",
}

EXPECTED_FAILURES = {
    "tests/test_logger.py::test_timestamp_override": (
        "__timestamp__ ends in Z; upstream writes +00:00Z, which is not RFC 3339"
    ),
    "tests/test_logger.py::test_noop_emit": (
        "emit validates with the validator compiled into the schema's route, not by calling "
        "SchemaRegistry.validate_event, which the test mocks (an emit with no handler and no "
        "listener returns before validating, as upstream's does)"
    ),
}

# pytest-asyncio 1.x warns, under upstream's "error" filter, when this is not set.
EXTRA_INI = {"asyncio_default_fixture_loop_scope": "function"}


def rename(text: str) -> str:
    pattern = "|".join(re.escape(name) for name in sorted(RENAMES, key=len, reverse=True))
    return re.sub(rf"(?<![\w.-])({pattern})(?![\w-])", lambda m: RENAMES[m.group(1)], text)


def download(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
         ":all:", UPSTREAM, "--dest", str(directory)],
        check=True,
    )  # fmt: skip
    (sdist,) = directory.glob("jupyter_events-*.tar.gz")
    return sdist


def prepare(sdist: Path, directory: Path) -> Path:
    """Unpack the sdist's tests and configuration, renamed, into ``directory``."""
    with tarfile.open(sdist) as archive:
        archive.extractall(directory, filter="data")
    (source,) = directory.glob("jupyter_events-*/")
    suite = directory / "suite"
    for path in sorted((source / "tests").rglob("*")):
        target = suite / "tests" / path.relative_to(source / "tests")
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            continue
        if path.suffix == ".py":
            target.write_text(rename(path.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            target.write_bytes(path.read_bytes())
    options = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    ini = {**options["tool"]["pytest"]["ini_options"], **EXTRA_INI}
    lines = ["[pytest]"]
    for name, value in ini.items():
        if isinstance(value, list):
            lines.append(f"{name} =")
            lines.extend(f"    {rename(str(item))}" for item in value)
        else:
            lines.append(f"{name} = {rename(str(value))}")
    (suite / "pytest.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return suite


def run(suite: Path) -> dict[str, str]:
    """Run the suite; return each test's outcome: passed, failed or skipped."""
    report = suite / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}",
         "-q", "--color=no", "tests"],
        cwd=suite, check=False,
    )  # fmt: skip
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        name = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        elif case.find("skipped") is not None:
            outcomes[name] = "skipped"
        else:
            outcomes[name] = "passed"
    return outcomes


def verdict(outcomes: dict[str, str]) -> list[str]:
    """What is wrong with ``outcomes``: unexpected failures and skips, expected failures
    that passed or did not run."""
    wrong = []
    for name, outcome in sorted(outcomes.items()):
        if outcome != "passed" and name not in EXPECTED_FAILURES:
            wrong.append(f"{name} {outcome}, unexpectedly")
    for name, reason in EXPECTED_FAILURES.items():
        if outcomes.get(name) != "failed":
            wrong.append(
                f"{name} was expected to fail ({reason}) but {outcomes.get(name, 'did not run')}"
            )
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help=f"a downloaded sdist of {UPSTREAM}")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        sdist = args.sdist or download(directory)
        outcomes = run(prepare(sdist, directory))
    passed = sum(outcome == "passed" for outcome in outcomes.values())
    print(f"\n{UPSTREAM}'s own suite against jupyter_events_ext.events: "
          f"{passed} of {len(outcomes)} passed")  # fmt: skip
    for name, reason in EXPECTED_FAILURES.items():
        print(f"  fails on purpose: {name}: {reason}")
    wrong = verdict(outcomes)
    for problem in wrong:
        print(f"  WRONG: {problem}", file=sys.stderr)
    return 1 if wrong or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
