"""Exporting a million events (and two) in bounded memory: the peak RSS of the process,
measured by the kernel, does not grow with the input."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

from recorded_events import write_fast

from jupyter_events_ext.analysis.engine import MEMORY_LIMIT

MB = 1 << 20
# Python, DuckDB, pyarrow and the batch being read, on top of the engine's memory limit.
OVERHEAD = 512 * MB


# The export, run in a fresh Python that reports its own peak RSS (VmHWM) as it exits.
# (ru_maxrss from wait4 would include the forking test process's memory before exec.)
_EXPORT = """
import atexit, runpy, sys

def report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"PEAK {peak.split()[1]}\\n")

atexit.register(report)
sys.argv = ["jupyter-events-ext", "export", *sys.argv[1:]]
runpy.run_module("jupyter_events_ext.cli", run_name="__main__")
"""


def peak_rss_of_export(source: pathlib.Path, output: pathlib.Path) -> int:
    """Run the export in a fresh process; its peak resident set size in bytes."""
    result = subprocess.run(
        [sys.executable, "-c", _EXPORT, str(source), "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stderr.split("PEAK ")[-1]) * 1024  # kB


def events_written(output: pathlib.Path) -> int:
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    return sum(table["rows"] for table in manifest["tables"])


def tables_out_of_time_order(output: pathlib.Path) -> list[str]:
    """The tables in ``output`` whose rows are not oldest first."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    unordered = []
    for table in manifest["tables"]:
        times = pq.read_table(output / table["file"], columns=["__timestamp__"]).column(0)
        later = pc.greater(times.slice(0, len(times) - 1), times.slice(1))
        if pc.any(later).as_py():
            unordered.append(table["file"])
    return unordered


def test_a_million_events_and_two_million_in_the_same_memory(tmp_path):
    # 100,000 realistic events, repeated: the engine sees every line as it is.
    block = write_fast(tmp_path / "block.jsonl", 100_000)
    million, two_million = tmp_path / "1m.jsonl", tmp_path / "2m.jsonl"
    for path, copies in ((million, 10), (two_million, 20)):
        with open(path, "wb") as file:
            for _ in range(copies):
                with open(block, "rb") as part:
                    shutil.copyfileobj(part, file)
    assert million.stat().st_size > 300 * MB

    peak_1m = peak_rss_of_export(million, tmp_path / "out-1m")
    assert events_written(tmp_path / "out-1m") == 1_000_000
    # The file goes back in time every 100,000 events; each table, of many row groups, is
    # sorted all the same.
    assert tables_out_of_time_order(tmp_path / "out-1m") == []
    million.unlink()
    peak_2m = peak_rss_of_export(two_million, tmp_path / "out-2m")
    assert events_written(tmp_path / "out-2m") == 2_000_000

    print(f"peak RSS: {peak_1m / MB:.0f} MB for 1M events, {peak_2m / MB:.0f} MB for 2M")
    limit = int(MEMORY_LIMIT.removesuffix("MB")) * MB
    assert peak_2m < limit + OVERHEAD, f"peak RSS {peak_2m / MB:.0f} MB"
    # Twice the input, not more memory (within noise): memory does not grow with input.
    assert peak_2m - peak_1m < 64 * MB, f"{peak_1m / MB:.0f} MB, then {peak_2m / MB:.0f} MB"
    # And far less than the input itself.
    assert peak_2m < two_million.stat().st_size
