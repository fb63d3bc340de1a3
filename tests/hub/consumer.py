"""The operator's end of the pipeline, run as the docs say: ``jupyter events-ext tail
--group`` archives the hub's stream to a JSON-lines file, and ``jupyter events-ext export``
turns that archive into Parquet."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

JUPYTER = str(Path(sys.executable).parent / "jupyter")


class Consumer:
    """``tail --group archivers --consumer archiver-1 --from start > archive``, and what it
    printed so far, read as it arrives."""

    GROUP = "archivers"

    def __init__(self, redis_url: str, archive: Path, stream: str) -> None:
        self.archive = archive
        self.arrived: dict[str, float] = {}  # client id -> when the consumer printed it
        self.printed: Counter[str] = Counter()  # client id -> times printed
        self.lines = 0
        self._offset = 0
        self._out = open(archive, "wb")  # noqa: SIM115 (the child keeps it; closed in stop())
        self.process = subprocess.Popen(
            [
                JUPYTER, "events-ext", "tail", "--url", redis_url, "--stream", stream,
                "--group", self.GROUP, "--consumer", "archiver-1", "--from", "start",
            ],
            stdout=self._out,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def read(self) -> None:
        """Take in the lines printed since the last call."""
        with open(self.archive, "rb") as archive:
            archive.seek(self._offset)
            data = archive.read()
        whole = data[: data.rfind(b"\n") + 1]
        self._offset += len(whole)
        now = time.time()
        for line in whole.splitlines():
            self.lines += 1
            event_id = json.loads(line).get("__id__")
            if event_id is not None:
                self.printed[event_id] += 1
                self.arrived.setdefault(event_id, now)

    def wait_for(self, ids: Iterable[str], timeout: float) -> set[str]:
        """Wait until every id in ``ids`` was printed, or ``timeout`` s; the ids missing."""
        wanted = set(ids)
        deadline = time.monotonic() + timeout
        while True:
            self.read()
            missing = wanted - self.printed.keys()
            if not missing or time.monotonic() > deadline:
                return missing
            if self.process.poll() is not None:
                raise RuntimeError(f"tail exited ({self.process.returncode}): {self.errors()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; it acknowledged what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
        self.read()

    def errors(self) -> str:
        return self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""


def export_parquet(archive: Path, output: Path) -> dict[str, Any]:
    """``jupyter events-ext export ARCHIVE --format parquet -o OUTPUT``; its manifest."""
    subprocess.run(
        [JUPYTER, "events-ext", "export", str(archive), "--format", "parquet", "-o", str(output)],
        check=True,
        capture_output=True,
    )
    return json.loads((output / "manifest.json").read_text())


def exported_rows(output: Path) -> list[dict[str, Any]]:
    """``__id__``, ``__user__`` and ``__schema__`` of every row of every exported table."""
    import pyarrow.parquet as pq

    rows = []
    for path in sorted(output.glob("*.parquet")):
        table = pq.read_table(path, columns=["__id__", "__user__", "__schema__"])
        rows.extend(table.to_pylist())
    return rows
