"""Checks that a built sdist and wheel hold what the source tree ships, at one version.

Usage: python scripts/check_dist.py ROOT SDIST WHEEL

What must be there is read from the tree, never listed here: every file git tracks in the
package and in the extension's settings schemas and server configuration, every tracked file
in the sdist, and in the wheel the labextension's production build. The version is
package.json's (the one place it is written): the wheel's name and metadata, the sdist's
name, `__version__` and the labextension's package.json must all say it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

LABEXTENSION = "share/jupyter/labextensions/jupyter-events-ext"
SERVER_CONFIG = "etc/jupyter/jupyter_server_config.d"


def tracked(root: Path, *paths: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *paths], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (root / name).exists()]


def missing(expected: list[str], present: set[str]) -> list[str]:
    return [name for name in expected if name not in present]


def check_wheel(root: Path, wheel: Path, version: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = f"jupyter_events_ext-{version}.data/data"
        metadata = archive.read(f"jupyter_events_ext-{version}.dist-info/METADATA").decode()
        version_py = archive.read("jupyter_events_ext/_version.py").decode()
        labextension_json = json.loads(archive.read(f"{data}/{LABEXTENSION}/package.json"))
    expected = tracked(root, "jupyter_events_ext")
    expected += [f"{data}/{LABEXTENSION}/{name}" for name in ("package.json", "install.json")]
    expected += [
        f"{data}/{LABEXTENSION}/schemas/jupyter-events-ext/{Path(name).name}"
        for name in tracked(root, "schema")
    ]
    expected += [
        f"{data}/{SERVER_CONFIG}/{Path(name).name}"
        for name in tracked(root, "jupyter-config/server-config")
    ]
    expected.append(f"{data}/{LABEXTENSION}/{labextension_json['jupyterlab']['_build']['load']}")
    problems += [f"{wheel.name} lacks {name}" for name in missing(expected, names)]
    if any(name.endswith(".js.map") for name in names):
        problems.append(f"{wheel.name} holds a development build of the labextension")
    if f"\nVersion: {version}\n" not in metadata:
        problems.append(f"{wheel.name}: METADATA does not say Version: {version}")
    if not re.search(rf"""^__version__ = .*['"]{re.escape(version)}['"]$""", version_py, re.M):
        problems.append(f"{wheel.name}: _version.py does not say {version}")
    if labextension_json["version"] != version:
        problems.append(f"{wheel.name}: the labextension says {labextension_json['version']}")
    return problems


def check_sdist(root: Path, sdist: Path, version: str) -> list[str]:
    top = f"jupyter_events_ext-{version}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    expected = tracked(root)
    expected.append("jupyter_events_ext/labextension/package.json")
    return [f"{sdist.name} lacks {name}" for name in missing(expected, names)]


def main(root: str, sdist: str, wheel: str) -> int:
    version = json.loads((Path(root) / "package.json").read_text())["version"]
    problems = []
    for path, suffix in ((Path(sdist), ".tar.gz"), (Path(wheel), "-py3-none-any.whl")):
        if path.name != f"jupyter_events_ext-{version}{suffix}":
            problems.append(f"{path.name} is not named for version {version}")
    problems += check_sdist(Path(root), Path(sdist), version)
    problems += check_wheel(Path(root), Path(wheel), version)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"The sdist and the wheel hold what the tree ships, all at version {version}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
