"""Safe YAML reading and writing (YAML is a superset of JSON, so this reads both)."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

import yaml

# The C implementations are an order of magnitude faster; PyYAML without libyaml lacks them.
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def loads(stream: Any) -> Any:
    """Parse the first YAML document in a string or stream."""
    return yaml.load(stream, Loader=SafeLoader)


def dumps(data: Any) -> str:
    """Serialize ``data`` as a YAML document."""
    return yaml.dump(data, Dumper=SafeDumper)


def load(fpath: str | PurePath) -> Any:
    """Parse the YAML (or JSON) file at ``fpath``."""
    return loads(Path(fpath).read_text(encoding="utf-8"))


def dump(data: Any, outpath: str | PurePath) -> None:
    """Write ``data`` as YAML to ``outpath``."""
    Path(outpath).write_text(dumps(data), encoding="utf-8")
