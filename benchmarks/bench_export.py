"""Exporting recorded events to Parquet: ``jupyter events-ext export`` against pandas.

Writes a realistic JSON-lines event file (``--events`` events of the shipped UI-action
schemas, from ``tests/analysis/recorded_events.py``: a class of 40 students over a week),
then, in the same run and each in its own subprocess:

  a. what people do today: ``pandas.read_json(path, lines=True).to_parquet(out)``
  b. the other engine considered: ``pyarrow.json.read_json(path)`` + ``pq.write_table``
  c. ``jupyter events-ext export path --format parquet --output out`` (DuckDB)

each ``--rounds`` times, interleaved. A run's time is its subprocess's wall time (start-up
and imports included, for both) and its memory the subprocess's peak RSS (``VmHWM``, read
from ``/proc/self/status`` as it exits). The fastest round of each counts; the memory
shown is the highest of any round. Afterwards every output is checked to hold every event.
Last, each way is run once more on the same file with one torn line appended (as a crash
leaves it), to show which of them still produce their tables.

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
PYARROW = (
    _REPORT
    + "import pyarrow.json, pyarrow.parquet\n"
    + "pyarrow.parquet.write_table(pyarrow.json.read_json(sys.argv[1]), sys.argv[2])\n"
)
OURS = (
    _REPORT
    + "import runpy\n"
    + "sys.argv = ['jupyter-events-ext', 'export', '--format', 'parquet', *sys.argv[1:]]\n"
    + "runpy.run_module('jupyter_events_ext.cli', run_name='__main__')\n"
)


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


def measure(code: str, *args: str) -> tuple[float, int]:
    """Run ``code`` in a fresh Python; its wall time in seconds and peak RSS in bytes."""
    start = time.perf_counter()
    result = run(code, *args)
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"a run failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, int(result.stderr.split("PEAK ")[-1]) * 1024  # kB


def last_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line and not line.startswith("PEAK ")]
    return lines[-1][:100] if lines else ""


def rows_in_file(path: pathlib.Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def rows_in_export(directory: pathlib.Path, torn: int = 0) -> int:
    import pyarrow.parquet as pq

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    expected = {"ok": sum(t["rows"] for t in manifest["tables"])}
    if torn:
        expected["torn"] = torn
    if manifest["lines"]["by_kind"] != expected:
        raise RuntimeError(f"unexpected lines: {manifest['lines']}")
    return sum(pq.read_metadata(directory / t["file"]).num_rows for t in manifest["tables"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the file")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (fastest counts)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = pathlib.Path(tmp)
        source = write_fast(work / "events.jsonl", args.events)
        size = source.stat().st_size
        results: dict[str, list[tuple[float, int]]] = {"pandas": [], "pyarrow": [], "ours": []}
        for round_ in range(args.rounds):
            for name, code in (("pandas", PANDAS), ("pyarrow", PYARROW)):
                out = work / f"{name}-{round_}.parquet"
                results[name].append(measure(code, str(source), str(out)))
                if rows_in_file(out) != args.events:
                    raise RuntimeError(f"{name} lost events")
                out.unlink()
            directory = work / f"ours-{round_}"
            results["ours"].append(measure(OURS, str(source), "--output", str(directory)))
            if rows_in_export(directory) != args.events:
                raise RuntimeError("the export lost events")
            shutil.rmtree(directory)

        # The same file with one line torn at its end, as a crash leaves it.
        with open(source, "a", encoding="utf-8") as file:
            file.write('{"__timestamp__": "2026-11-27T16:59:59.000000Z", "__sche')
        torn: dict[str, str] = {}
        for name, code in (("pandas", PANDAS), ("pyarrow", PYARROW)):
            result = run(code, str(source), str(work / f"{name}-torn.parquet"))
            torn[name] = (
                "wrote its table"
                if result.returncode == 0
                else (f"failed: {last_error_line(result.stderr)}")
            )
        result = run(OURS, str(source), "--output", str(work / "ours-torn"))
        if result.returncode == 0 and rows_in_export(work / "ours-torn", torn=1) == args.events:
            torn["ours"] = "wrote its tables, every event, and counted 1 torn line"
        else:
            torn["ours"] = f"failed: {last_error_line(result.stderr)}"

    best = {name: min(runs)[0] for name, runs in results.items()}
    peak = {name: max(rss for _, rss in runs) for name, runs in results.items()}
    speedup = best["pandas"] / best["ours"]
    memory = peak["ours"] / peak["pandas"]
    print(
        f"Python {platform.python_version()}, pandas {version('pandas')}, "
        f"pyarrow {version('pyarrow')}, duckdb {version('duckdb')}, {os.cpu_count()} CPUs; "
        f"{args.events:,} events ({size / 1e6:,.0f} MB of JSON lines), "
        f"fastest of {args.rounds} rounds, highest peak RSS; 1-minute load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine)"
    )
    print()
    print("| way to Parquet                                       | time (s) | peak RSS (MB) |")
    print("| ---------------------------------------------------- | -------: | ------------: |")
    labels = {
        "pandas": "`pandas.read_json(lines=True)` + `to_parquet`",
        "pyarrow": "`pyarrow.json.read_json` + `pq.write_table`",
        "ours": "`jupyter events-ext export --format parquet`",
    }
    for name, label in labels.items():
        print(f"| {label:<52} | {best[name]:>8.2f} | {peak[name] / 1e6:>13,.0f} |")
    print()
    verdict = "met" if speedup >= 3 and memory <= 0.25 else "NOT met"
    print(
        f"export / pandas: {speedup:.2f}x faster (goal >= 3x), {memory:.2f} of the peak RSS "
        f"(goal <= 0.25): {verdict}"
    )
    print(
        "Every event is in every output; the export writes one table per schema version "
        "(5 here) with typed columns, the others one table with every column."
    )
    print()
    print("With one torn line at the end of the file:")
    for name, label in labels.items():
        print(f"  {label}: {torn[name]}")


if __name__ == "__main__":
    main()
