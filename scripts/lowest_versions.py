"""Print a pip constraint (``name==lowest``) for each runtime dependency of the package:
the oldest versions pyproject.toml says it works with, which CI installs and tests.

    python scripts/lowest_versions.py > constraints.txt
    python scripts/lowest_versions.py --requirements   # the dependencies themselves
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# A requirement's name (with extras) and its lower bound: "jsonschema[format-nongpl]>=4.18".
_LOWER_BOUND = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def runtime_dependencies() -> list[str]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]


def lowest(requirements: list[str]) -> list[str]:
    """``name==version`` for each requirement; every one must state its lower bound."""
    pins = []
    for requirement in requirements:
        match = _LOWER_BOUND.match(requirement)
        if match is None:
            sys.exit(f"{requirement!r} states no lower bound (>=): declare the oldest that works")
        pins.append(f"{match[1]}=={match[2]}")
    return pins


if __name__ == "__main__":
    requirements = runtime_dependencies()
    print("\n".join(requirements if "--requirements" in sys.argv else lowest(requirements)))
