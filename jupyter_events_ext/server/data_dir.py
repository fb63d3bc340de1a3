"""This server's files in ``{jupyter_data_dir}/jupyter_events_ext``: the directory is the
user's, shared by every server of that user (JupyterHub's named servers with one home,
two ``jupyter lab``\\ s), so each server takes files of its own there."""

from __future__ import annotations

import glob
import logging
import os
import re
import stat
from typing import Callable, TypeVar

from jupyter_core.paths import jupyter_data_dir

from ..sinks.owned_files import PRIVATE_DIRECTORY, FileInUse, make_private_directory

T = TypeVar("T")

SINK = "events"
RECENT_IDS = "recent-ids"
PATH_KEY = "path-hash.key"
DEAD_LETTERS = "dead-letter"
# More servers of one user at once than this, and something else is wrong.
MAX_SERVERS = 100


def default_directory() -> str:
    return os.path.join(jupyter_data_dir(), "jupyter_events_ext")


class ServerFiles:
    """The files a server writes by default in ``directory``: ``events<suffix>.jsonl``
    (the default sink) and ``recent-ids<suffix>.jsonl``; and the path-hash key, which
    every server of the user shares (made once, then only read).

    The suffix is ``""`` for a user's default server (or a lone ``jupyter lab``) and
    ``-<name>`` for JupyterHub's named server ``<name>`` (``$JUPYTERHUB_SERVER_NAME``).
    A server that finds that file written by another takes the first free of ``-2``,
    ``-3``, ... after it: one writer per file, whatever starts.
    """

    def __init__(self, directory: str, server_name: str, log: logging.Logger) -> None:
        self.directory = directory
        self.log = log
        # Only what is safe in a file name, everywhere.
        name = re.sub(r"[^A-Za-z0-9._-]", "_", server_name)
        self.base_suffix = f"-{name}" if name else ""

    @property
    def path_key(self) -> str:
        return os.path.join(self.directory, PATH_KEY)

    @property
    def dead_letters(self) -> str:
        """Where network sinks write what their destination refused for good: appended
        whole lines, never read back, so servers of one name may share it."""
        return os.path.join(self.directory, f"{DEAD_LETTERS}{self.base_suffix}.jsonl")

    def claim(self, stem: str, take: Callable[[str], T]) -> T:
        """``take(path)`` for the first path of ``stem`` that no other server writes:
        ``take`` raises ``FileInUse`` for one that another does."""
        self._make_directory()
        first: FileInUse | None = None
        for n in range(1, MAX_SERVERS + 1):
            suffix = self.base_suffix if n == 1 else f"{self.base_suffix}-{n}"
            path = os.path.join(self.directory, f"{stem}{suffix}.jsonl")
            try:
                taken = take(path)
            except FileInUse as err:
                first = first or err
                continue
            if first is not None:
                self.log.info(
                    "jupyter_events_ext: another server (%s) writes %s; this one writes %s",
                    first.holder,
                    first.path,
                    path,
                )
            return taken
        assert first is not None
        raise first

    def sink_set(self) -> list[str]:
        """Every server's default sink here, without rotated files: ``events*.jsonl``."""
        return sorted(glob.glob(os.path.join(glob.escape(self.directory), f"{SINK}*.jsonl")))

    def _make_directory(self) -> None:
        # Made owner-only; made by an older version with the usual umask, tightened: the
        # files in it say what people did.
        make_private_directory(self.directory)
        status = os.stat(self.directory)
        if status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) & ~PRIVATE_DIRECTORY:
            os.chmod(self.directory, PRIVATE_DIRECTORY)
