"""The deployment's key for hashing paths: made once, kept in a file only its owner reads."""

from __future__ import annotations

import os
import secrets


def load_or_create_key(path: str) -> str:
    """The hex key in ``path``, made (32 random bytes) if the file does not exist yet.

    The file is created readable by its owner only, and without a race: of two servers
    starting at once, one writes it and the other reads what it wrote.
    """
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
    with open(path, encoding="utf-8") as file:
        key = file.read().strip()
    if len(key) < 32 or any(c not in "0123456789abcdefABCDEF" for c in key):
        raise ValueError(f"{path} does not hold a hex key of at least 16 bytes")
    return key.lower()
