"""The window of recently recorded client ids, in memory and in its file."""

from __future__ import annotations

import json
import logging
import os

import pytest

from jupyter_events_ext.server.seen_ids import SeenIds
from jupyter_events_ext.sinks.owned_files import FileInUse

log = logging.getLogger("test_seen_ids")


def test_it_remembers_the_last_size_ids_and_forgets_the_oldest():
    seen = SeenIds(3, None, log)
    seen.add(["a", "b"])
    seen.add(["c", "d", "e"])
    assert len(seen) == 3
    assert [client_id in seen for client_id in "abcde"] == [False, False, True, True, True]


def test_it_keeps_forgetting_the_oldest_over_many_windows():
    seen = SeenIds(100, None, log)
    for batch in range(50):
        seen.add([f"{batch}-{n}" for n in range(30)])
    assert len(seen) == 100
    newest = [f"{batch}-{n}" for batch in range(46, 50) for n in range(30)][-100:]
    assert all(client_id in seen for client_id in newest)
    assert "46-9" not in seen


def test_saved_ids_are_known_after_a_restart_and_unsaved_ones_are_not(tmp_path):
    path = str(tmp_path / "ids.jsonl")
    seen = SeenIds(10, path, log)
    seen.add(["a", "b"])
    seen.save()
    seen.add(["c"])  # never saved: its request did not end
    seen.close()
    again = SeenIds(10, path, log)
    assert ("a" in again, "b" in again, "c" in again) == (True, True, False)


def test_an_id_in_the_file_twice_keeps_the_place_of_its_last_line(tmp_path):
    path = tmp_path / "ids.jsonl"
    # "a" was recorded, forgotten and recorded again after "b" and "c".
    path.write_text("".join(json.dumps(client_id) + "\n" for client_id in "abca"))
    seen = SeenIds(2, str(path), log)
    assert ("a" in seen, "b" in seen, "c" in seen) == (True, False, True)


def test_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "ids.jsonl"
    path.write_text('"a"\n"b"\n"c')
    seen = SeenIds(10, str(path), log)
    assert ("a" in seen, "b" in seen, "c" in seen) == (True, True, False)
    assert path.read_text() == '"a"\n"b"\n'


def test_the_file_is_rewritten_with_the_window_once_it_holds_twice_as_many(tmp_path):
    path = tmp_path / "ids.jsonl"
    seen = SeenIds(2, str(path), log)
    for client_id in "abcde":
        seen.add([client_id])
        seen.save()
    seen.close()
    assert path.read_text() == '"d"\n"e"\n'
    assert len(SeenIds(2, str(path), log)) == 2


def test_its_files_and_directory_are_the_owners_only(tmp_path):
    old = os.umask(0o022)  # the usual umask, which leaves new files readable by everyone
    try:
        path = tmp_path / "made" / "ids.jsonl"
        seen = SeenIds(2, str(path), log)
        seen.add(["a"])
        seen.save()
        assert (oct(mode(path.parent)), oct(mode(path))) == (oct(0o700), oct(0o600))
        for client_id in "bcde":  # rewritten (compacted) on the way
            seen.add([client_id])
            seen.save()
        seen.close()
        assert path.read_text() == '"d"\n"e"\n'
        assert oct(mode(path)) == oct(0o600)
    finally:
        os.umask(old)


def mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_one_server_writes_the_file(tmp_path):
    path = str(tmp_path / "ids.jsonl")
    first = SeenIds(10, path, log)
    with pytest.raises(FileInUse):
        SeenIds(10, path, log)
    first.close()
    SeenIds(10, path, log).close()
