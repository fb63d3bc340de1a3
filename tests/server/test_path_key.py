"""The deployment's key for hashing paths: made once, whole, by whichever server starts first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from jupyter_events_ext.server.path_key import load_or_create_key

# Load (or make) the key at argv[1] in a process whose files may not grow past argv[2]
# bytes (RLIMIT_FSIZE, SIGXFSZ ignored): a full disk, without root. Waits for a line on
# stdin first, so that several start at the same moment.
MAKE_KEY = textwrap.dedent(
    """
    import resource, signal, sys
    limit = int(sys.argv[2])
    if limit >= 0:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from jupyter_events_ext.server.path_key import load_or_create_key
    sys.stdin.readline()
    try:
        print(load_or_create_key(sys.argv[1]))
    except OSError as err:
        print(f"failed: {err}")
    """
)


def make_keys(path, count: int, file_size_limit: int = -1) -> list[str]:
    """What ``count`` processes started at the same moment say the key is."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MAKE_KEY, str(path), str(file_size_limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for child in children:  # every child has imported what it needs: go
        child.stdin.write("go\n")
        child.stdin.flush()
    return [child.communicate(timeout=60)[0].strip() for child in children]


def test_a_disk_that_fills_while_the_key_is_made_leaves_no_empty_key(tmp_path):
    key_file = tmp_path / "keys" / "path-hash.key"
    (failure,) = make_keys(key_file, 1, file_size_limit=0)
    assert failure.startswith("failed: ")
    assert "File too large" in failure
    # Nothing half made stays behind to be read as the key for a server's whole life...
    assert sorted(os.listdir(key_file.parent)) == []
    # ...so the next start, with room on the disk, makes a whole one.
    key = load_or_create_key(str(key_file))
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert key_file.read_text() == key + "\n"
    assert os.stat(key_file).st_mode & 0o777 == 0o600


def test_servers_starting_at_once_all_get_the_one_key(tmp_path):
    key_file = tmp_path / "path-hash.key"
    keys = make_keys(key_file, 8)
    assert len(set(keys)) == 1, keys
    assert len(keys[0]) == 64
    assert key_file.read_text() == keys[0] + "\n"
    assert os.listdir(tmp_path) == ["path-hash.key"]  # no temporary file left behind


def test_an_empty_key_file_says_what_to_do(tmp_path):
    key_file = tmp_path / "path-hash.key"
    key_file.write_text("")
    with pytest.raises(ValueError, match=r"is empty.*delete it"):
        load_or_create_key(str(key_file))


def test_the_key_and_its_name_are_on_the_disk_before_it_is_used(tmp_path, fsyncs):
    key_file = tmp_path / "path-hash.key"
    load_or_create_key(str(key_file))
    assert len(fsyncs) == 2
    assert fsyncs[0].startswith(str(tmp_path / ".path-hash-"))  # the whole key, then...
    assert fsyncs[1] == str(tmp_path)  # ...the name it was linked to
    load_or_create_key(str(key_file))
    assert len(fsyncs) == 2  # made once, then only read
