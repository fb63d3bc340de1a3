"""Exporting recorded events to Parquet: ``jupyter events-ext export`` against pandas.

Writes a realistic JSON-lines event file (``--events`` events of the shipped UI-action
schemas, from ``tests/analysis/recorded_events.py``: a class of 40 students over a week),
then, in the same run and each in its own subprocess:

  a. what people do today: ``pandas.read_json(path, lines=True).to_parquet(out)``
  b. ``jupyter events-ext export path --format parquet --output out``

each ``--rounds`` times, interleaved. A run's time is its subprocess's wall time (start-up
and imports included, for both) and its memory the subprocess's peak RSS (``VmHWM``, read
from ``/proc/self/status`` as it exits). The fastest round of each counts; the memory
shown is the highest of any round. Afterwards every output is checked to hold every event.

    python benchmarks/bench_export.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))
try:
    import jupyter_events_ext.events  # noqa: F401
except ImportError:  # run from a source checkout that is not installed
    sys.path.insert(0, str(ROOT))

from recorded_events import write_fast  # noqa: E402

# Each run reports its own peak RSS (VmHWM) as it exits: wait4's ru_maxrss would also count
# the memory of this process, which the child shares until it execs.
_REPORT = """
import atexit, sys

def _report():
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"PEAK {peak.split()[1]}\\n")

atexit.register(_report)
"""
PANDAS = (
    _REPORT + "import pandas\npandas.read_json(sys.argv[1], lines=True).to_parquet(sys.argv[2])\n"
)
OURS = (
    _REPORT
    + "import runpy\n"
    + "sys.argv = ['jupyter-events-ext', 'export', '--format', 'parquet', *sys.argv[1:]]\n"
    + "runpy.run_module('jupyter_events_ext.events.cli', run_name='__main__')\n"
)


def measure(code: str, *args: str) -> tuple[float, int]:
    """Run ``code`` in a fresh Python; its wall time in seconds and peak RSS in bytes."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"a run failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, int(result.stderr.split("PEAK ")[-1]) * 1024  # kB


def rows_in_pandas_output(path: pathlib.Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def rows_in_export(directory: pathlib.Path) -> int:
    import pyarrow.parquet as pq

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest["lines"]["by_kind"] != {"ok": sum(t["rows"] for t in manifest["tables"])}:
        raise RuntimeError(f"unexpected lines: {manifest['lines']}")
    return sum(pq.read_metadata(directory / t["file"]).num_rows for t in manifest["tables"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the file")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (fastest counts)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = pathlib.Path(tmp)
        source = write_fast(work / "events.jsonl", args.events)
        size = source.stat().st_size
        results: dict[str, list[tuple[float, int]]] = {"pandas": [], "ours": []}
        for round_ in range(args.rounds):
            out = work / f"pandas-{round_}.parquet"
            results["pandas"].append(measure(PANDAS, str(source), str(out)))
            if rows_in_pandas_output(out) != args.events:
                raise RuntimeError("pandas lost events")
            out.unlink()
            directory = work / f"ours-{round_}"
            results["ours"].append(measure(OURS, str(source), "--output", str(directory)))
            if rows_in_export(directory) != args.events:
                raise RuntimeError("the export lost events")
            shutil.rmtree(directory)

    best = {name: min(runs)[0] for name, runs in results.items()}
    peak = {name: max(rss for _, rss in runs) for name, runs in results.items()}
    speedup = best["pandas"] / best["ours"]
    memory = peak["ours"] / peak["pandas"]
    print(
        f"Python {platform.python_version()}, pandas {version('pandas')}, "
        f"pyarrow {version('pyarrow')}, duckdb {version('duckdb')}, {os.cpu_count()} CPUs; "
        f"{args.events:,} events ({size / 1e6:,.0f} MB of JSON lines), "
        f"fastest of {args.rounds} rounds, highest peak RSS"
    )
    print()
    print("| way to Parquet                                       | time (s) | peak RSS (MB) |")
    print("| ---------------------------------------------------- | -------: | ------------: |")
    labels = {
        "pandas": "`pandas.read_json(lines=True)` + `to_parquet`",
        "ours": "`jupyter events-ext export --format parquet`",
    }
    for name, label in labels.items():
        print(f"| {label:<52} | {best[name]:>8.2f} | {peak[name] / 1e6:>13,.0f} |")
    print()
    verdict = "met" if speedup >= 3 and memory <= 0.25 else "NOT met"
    print(
        f"export is {speedup:.1f}x faster (goal >= 3x) with {memory:.2f} of the peak RSS "
        f"(goal <= 0.25): {verdict}"
    )
    print(
        "Every event is in both outputs; the export writes one table per schema version "
        "(5 here) with typed columns, pandas one table with every column."
    )


if __name__ == "__main__":
    main()
