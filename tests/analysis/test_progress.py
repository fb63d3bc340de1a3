"""The progress bar: drawn on a terminal (a real pseudo-terminal here), absent when piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

COMMAND = [sys.executable, "-m", "jupyter_events_ext.cli", "export"]


def test_a_terminal_shows_a_bar_per_source_and_one_for_writing(tmp_path, validated_events):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*COMMAND, str(validated_events), "-o", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            piece = os.read(controller, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not piece:
            break
        drawn += piece
    os.close(controller)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    text = drawn.decode()
    assert "events.jsonl" in text
    assert "Writing tables" in text
    assert "100%" in text
    assert b"Wrote 3,000 events in 5 tables" in stdout


def test_piped_it_is_quiet(tmp_path, validated_events):
    result = subprocess.run(
        [*COMMAND, str(validated_events), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("Wrote 3,000 events in 5 tables")
