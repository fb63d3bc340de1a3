"""The deployment's key for hashing paths: made once, kept in a file only its owner reads."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile

from ..sinks.owned_files import fsync_directory, make_private_directory


def load_or_create_key(path: str) -> str:
    """The hex key in ``path``, made (32 random bytes) if the file does not exist yet.

    The key is written whole to a temporary file, put on the disk, then linked to
    ``path``, which fails if ``path`` exists: so ``path`` never holds part of a key,
    whatever crash or full disk comes in between, and of servers starting at once the
    first to link wins and every other reads its key. The file is readable by its owner
    only.
    """
    directory = os.path.dirname(path) or "."
    make_private_directory(directory)
    if not os.path.exists(path):
        _make_key(path, directory)
    with open(path, encoding="utf-8") as file:
        key = file.read().strip()
    if not key:
        raise ValueError(
            f"{path} is empty: a crash while an older version made it; delete it and "
            "restart the server to make a new key"
        )
    if len(key) < 32 or any(c not in "0123456789abcdefABCDEF" for c in key):
        raise ValueError(f"{path} does not hold a hex key of at least 16 bytes")
    return key.lower()


def _make_key(path: str, directory: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".path-hash-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp: owner-only
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another server's key is the key
            os.link(temporary, path)
            fsync_directory(directory)
    finally:
        os.unlink(temporary)
