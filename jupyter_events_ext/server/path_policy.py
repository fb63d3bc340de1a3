"""How paths are recorded: the operator's one path policy, for jupyter_server's events this
extension forwards, and given to the browser, which records its own at least as
protected."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

# From least to most protected: the browser's pathMode may be stricter, never weaker.
PATH_MODES = ("as-is", "hashed", "omitted")

# The names of fields that hold paths, as the browser reads command arguments
# (src/capture/paths.ts): path, paths, source_path, oldPath, notebook_path, ...
PATH_FIELD = re.compile(r"(^|[_a-z])(path|Path|PATH)s?$")


class PathPolicy:
    """Paths as ``mode`` says: ``as-is``; ``hashed``, the hex HMAC-SHA256 of the path's
    UTF-8 under the deployment's ``key`` (what the browser computes with the key
    ``GET info`` gives it, so that a path hashes alike on both sides); or ``omitted``.

    ``key`` is the deployment's key (hex), or None when there is none. ``treat``
    applies the mode to the data of a server event: every string in a field whose
    name says it holds a path (``PATH_FIELD``, at any depth; arrays of them too). An
    omitted path is an empty string rather than a missing field, so that the event
    stays valid against its schema, which may require it (jupyter_server's contents
    events do). Without a key, ``hashed`` omits: never weaker than asked.
    """

    def __init__(self, mode: str, key: str | None) -> None:
        if mode not in PATH_MODES:
            raise ValueError(f"path_mode must be one of {', '.join(PATH_MODES)}, not {mode!r}")
        self.mode = mode
        self.key = key  # hex, as GET info gives it to the browser
        self._key = None if key is None else bytes.fromhex(key)
        self._treat_path = {
            "as-is": None,
            "hashed": self._hash if key is not None else _omit,
            "omitted": _omit,
        }[mode]

    def refusal(self, data: Any) -> str | None:
        """Why an event a client posted may not be recorded as it is, or None: its data
        says (``path_mode``) that its paths are recorded less protected than this policy
        allows. A browser follows the policy (``GET info``); an older page or another
        client that does not is refused rather than recorded against it."""
        declared = data.get("path_mode") if isinstance(data, dict) else None
        if declared not in PATH_MODES or self.at_least(declared):
            return None
        return (
            f"'path_mode' {declared!r} is less protected than this server's path_mode "
            f"{self.mode!r}: paths may be recorded {self.mode!r} or more protected"
        )

    def at_least(self, mode: str) -> bool:
        """Whether ``mode`` protects paths at least as much as this policy."""
        return PATH_MODES.index(mode) >= PATH_MODES.index(self.mode)

    def treat(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with its paths treated (new containers where something changed)."""
        if self._treat_path is None:
            return data
        return self._object(data)

    def _object(self, value: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self._path(item) if PATH_FIELD.search(key) else self._any(item)
            for key, item in value.items()
        }

    def _any(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return [self._any(item) for item in value]
        return value

    def _path(self, value: Any) -> Any:
        """A path field's value: a path, a list of paths, or an object to look into."""
        if isinstance(value, str):
            return self._treat_path(value)  # type: ignore[misc]
        if isinstance(value, list):
            return [self._path(item) for item in value]
        return self._any(value)

    def _hash(self, path: str) -> str:
        return hmac.new(self._key, path.encode("utf-8"), hashlib.sha256).hexdigest()  # type: ignore[arg-type]


def _omit(path: str) -> str:
    return ""
