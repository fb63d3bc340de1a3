"""How fast events get written: jupyter_events 0.12 vs jupyter_events_ext vs the logging floor.

Measures, in one run, on the same schema (five required properties: three strings and
two integers) and the same logging.FileHandler writing to a temporary file:

  a. jupyter_events 0.12 ``EventLogger.emit``
  b. jupyter_events_ext ``EventLogger.emit``, with full validation (formats included)
  c. the floor: a stdlib ``logging.Logger`` writing ``json.dumps`` of a ready envelope
  d. as b, with a typical redaction policy (``REDACTIONS``: hash the user, mask the path,
     drop any key that looks like a secret)

Each is timed over ``--events`` events, ``--rounds`` times, interleaved; the best round
counts. The file is checked afterwards: one valid JSON object per line, none missing.

    python benchmarks/bench_emit.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import platform
import sys
import tempfile
import time
import warnings
from importlib.metadata import version

try:
    import jupyter_events_ext.events  # noqa: F401
except ImportError:  # run from a source checkout that is not installed
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmark_event import DATA, SCHEMA

# A typical policy: pseudonymise who, hide where, and never keep what looks like a secret
# (a key rule, so every key of every event is looked at).
REDACTIONS = [
    {"path": "user", "action": "hash"},
    {"path": "path", "action": "mask"},
    {"key": "(?i)password|token|secret", "action": "drop"},
]


def rate(emit_once, events: int) -> float:
    start = time.perf_counter()
    for _ in range(events):
        emit_once()
    return events / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best one counts)")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # python-json-logger deprecations on import
        import jupyter_events

    from jupyter_events_ext.events import EventLogger

    with tempfile.TemporaryDirectory() as tmp:
        log_path = pathlib.Path(tmp, "events.log")
        handler = logging.FileHandler(log_path, encoding="utf-8")

        upstream = jupyter_events.EventLogger()
        upstream.register_event_schema(SCHEMA)
        ours = EventLogger()
        ours.register_event_schema(SCHEMA)
        redacting = EventLogger(redactions=REDACTIONS, redaction_secret="bench-secret")
        redacting.register_event_schema(SCHEMA)
        floor = logging.getLogger("bench_emit.floor")
        floor.propagate = False
        floor.setLevel(logging.INFO)
        ready_envelope = {
            "__timestamp__": "2026-01-01T00:00:00.000000Z",
            "__schema__": SCHEMA["$id"],
            "__schema_version__": "1",
            "__metadata_version__": 1,
            **DATA,
        }

        # One handler, handed from one logger to the next; each sets its own formatter.
        def run_upstream(n: int) -> float:
            upstream.register_handler(handler)
            try:
                return rate(lambda: upstream.emit(schema_id=SCHEMA["$id"], data=DATA), n)
            finally:
                upstream.remove_handler(handler)

        def run_ours(n: int) -> float:
            ours.register_handler(handler)
            try:
                return rate(lambda: ours.emit(schema_id=SCHEMA["$id"], data=DATA), n)
            finally:
                ours.remove_handler(handler)

        def run_redacting(n: int) -> float:
            redacting.register_handler(handler)
            try:
                return rate(lambda: redacting.emit(schema_id=SCHEMA["$id"], data=DATA), n)
            finally:
                redacting.remove_handler(handler)

        def run_floor(n: int) -> float:
            handler.setFormatter(logging.Formatter("%(message)s"))
            floor.addHandler(handler)
            try:
                return rate(lambda: floor.info(json.dumps(ready_envelope)), n)
            finally:
                floor.removeHandler(handler)

        runs = {"a": run_upstream, "b": run_ours, "c": run_floor, "d": run_redacting}
        for run in runs.values():  # warm up
            run(min(1000, args.events))
        best = dict.fromkeys(runs, 0.0)
        for _ in range(args.rounds):
            for key, run in runs.items():
                best[key] = max(best[key], run(args.events))
        handler.close()

        lines = log_path.read_text(encoding="utf-8").splitlines()
        expected = len(runs) * (min(1000, args.events) + args.rounds * args.events)
        assert len(lines) == expected, f"{len(lines)} lines written, {expected} expected"
        events = [json.loads(line) for line in lines]
        assert all(event["__schema__"] == SCHEMA["$id"] for event in events)
        redacted = [event for event in events if event["path"] == "[redacted]"]
        assert len(redacted) == min(1000, args.events) + args.rounds * args.events
        assert all(event["user"] != DATA["user"] for event in redacted)

    a, b, c, d = best["a"], best["b"], best["c"], best["d"]
    print(
        f"{args.events} events x {args.rounds} rounds (best round), one FileHandler; "
        f"Python {platform.python_version()}, jupyter_events {version('jupyter_events')}, "
        f"jsonschema {version('jsonschema')}"
    )
    print()
    rows = [
        ("a", "jupyter_events 0.12 `EventLogger.emit`", a),
        ("b", "jupyter_events_ext `EventLogger.emit` (validating)", b),
        ("c", "floor: `logging` + `json.dumps` of a ready envelope", c),
        ("d", "jupyter_events_ext `EventLogger.emit`, redacting", d),
    ]
    print(f"|   | {'emit':<52} | events/s |")
    print(f"|---|{'-' * 54}|---------:|")
    for key, label, value in rows:
        print(f"| {key} | {label:<52} | {value:8,.0f} |")
    print()
    print(f"b/a = {b / a:.1f}x (goal >= 8x, issue 12)")
    print(f"b/c = {b / c:.2f} (goal >= 0.75)")
    print(f"d/b = {d / b:.2f} (the cost of a typical redaction policy)")


if __name__ == "__main__":
    main()
