"""Files that hold what users did: one writer each, readable by their owner only, and
renamed durably."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os

# Events say what people did: as the snapshots and the path-hash key, owner-only.
PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700
# What flock says on a file system that cannot lock at all (NFS mounted with nolock).
_CANNOT_LOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP}

log = logging.getLogger(__name__)


class FileInUse(Exception):
    """Another process (or another handler in this one) writes the file."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(
            f"{path} is written by another process ({holder}): two writers of one file "
            "would cut and rotate each other's lines. Give each server a file of its own."
        )
        self.path = path
        self.holder = holder


class WriterLock:
    """The right to write ``path``, held by one open file at a time across processes: an
    exclusive ``flock`` on a lock file beside it (``.<name>.lock``), which renaming
    ``path`` (rotation, compaction) leaves in place. Released by ``release()`` or when
    the process ends, however it ends.

    Raises ``FileInUse``, naming the holder's process id, when another holds it. On a
    file system that cannot lock (NFS mounted without locking) it warns, and holds
    nothing: no worse than without the lock, and a JupyterHub named server's default
    file has a name of its own anyway.
    """

    def __init__(self, path: str) -> None:
        directory, name = os.path.split(os.path.abspath(path))
        self.path = os.path.join(directory, f".{name}.lock")
        self._fd: int | None = None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            raise FileInUse(path, f"pid {holder}" if holder.isdigit() else "unknown") from None
        except OSError as err:
            os.close(fd)
            if err.errno not in _CANNOT_LOCK:
                raise
            log.warning(
                "%s cannot be locked (%s): nothing stops another process from writing it "
                "too; make sure each server writes a file of its own",
                path,
                err.strerror or err,
            )
            return
        except BaseException:
            os.close(fd)
            raise
        # Who holds it, for the message of the next one that tries.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def make_private_directory(path: str) -> None:
    """Make the directory ``path`` (and its parents) if it is missing, owner-only."""
    os.makedirs(path or ".", mode=PRIVATE_DIRECTORY, exist_ok=True)


def fsync_directory(path: str) -> None:
    """Put the directory ``path``'s entries on the disk: a file created or renamed in it
    is then found under its name after a power cut. (A file system that cannot sync a
    directory says so with EINVAL; there is nothing more to do there.)"""
    fd = os.open(path or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)
