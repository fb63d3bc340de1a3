"""The ``tail`` command, reading what RedisStreamHandler wrote to a real redis-server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from sink_schemas import OTHER_SCHEMA_ID, SCHEMA_ID

from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler
from jupyter_events_ext.sinks.tail import tail

STREAM = "events"
TAIL = "from jupyter_events_ext.sinks.tail import tail; tail()"


@pytest.fixture
def publish(redis_server, event_logger):
    """Emit events of the given schemas (numbered from 0) into STREAM; returns their lines."""
    handler = RedisStreamHandler(redis_server.url, STREAM)
    logger = event_logger(handler)
    counter = iter(range(10**6))

    def emit(*schema_ids: str) -> list[str]:
        envelopes = [
            logger.emit(schema_id=schema_id, data={"source": "test", "n": next(counter)})
            for schema_id in schema_ids
        ]
        assert handler.flush(10)
        return [json.dumps(envelope) for envelope in envelopes]

    yield emit
    handler.close()


def run_tail(redis_server, *args: str) -> list[str]:
    result = CliRunner().invoke(
        tail, ["--url", redis_server.url, "--stream", STREAM, *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def same_events(printed: list[str], expected: list[str]) -> bool:
    return [json.loads(line) for line in printed] == [json.loads(line) for line in expected]


def start_tail(redis_server, *args: str) -> subprocess.Popen[str]:
    """``tail`` in a process of its own, returned once it is waiting for new entries."""
    process = subprocess.Popen(
        [sys.executable, "-c", TAIL, "--url", redis_server.url, "--stream", STREAM, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with redis_server.client() as client:
        deadline = time.monotonic() + 20
        while not any(c["cmd"] in ("xread", "xreadgroup") for c in client.client_list()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "tail never started reading"
            time.sleep(0.02)
    return process


def test_from_the_end_prints_only_new_events(redis_server, publish):
    publish(SCHEMA_ID, SCHEMA_ID)
    process = start_tail(redis_server, "--count", "3", "--timeout", "20")
    new = publish(SCHEMA_ID, OTHER_SCHEMA_ID, SCHEMA_ID)

    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert same_events(stdout.splitlines(), new)


def test_from_the_end_of_an_empty_or_missing_stream(redis_server, publish):
    process = start_tail(redis_server, "--count", "1", "--timeout", "20")
    new = publish(SCHEMA_ID)

    stdout, _ = process.communicate(timeout=30)
    assert same_events(stdout.splitlines(), new)


def test_from_an_id_prints_what_follows_it(redis_server, publish, redis_client):
    lines = publish(*[SCHEMA_ID] * 5)
    ids = [entry_id.decode() for entry_id, _ in redis_client.xrange(STREAM)]

    assert same_events(run_tail(redis_server, "--from", ids[1], "--timeout", "0.2"), lines[2:])
    assert same_events(run_tail(redis_server, "--from", "start", "--timeout", "0.2"), lines)
    assert same_events(run_tail(redis_server, "--from", "0", "--count", "2"), lines[:2])


def test_ids_prefix_each_line_with_its_entry_id(redis_server, publish, redis_client):
    lines = publish(SCHEMA_ID, SCHEMA_ID)
    ids = [entry_id.decode() for entry_id, _ in redis_client.xrange(STREAM)]

    printed = run_tail(redis_server, "--from", "start", "--timeout", "0.2", "--ids")
    assert [line.split("\t", 1)[0] for line in printed] == ids
    assert same_events([line.split("\t", 1)[1] for line in printed], lines)


def test_schema_filter_is_repeatable(redis_server, publish):
    lines = publish(SCHEMA_ID, OTHER_SCHEMA_ID, SCHEMA_ID, OTHER_SCHEMA_ID)
    common = ["--from", "start", "--timeout", "0.2"]

    assert same_events(run_tail(redis_server, *common, "--schema", SCHEMA_ID), lines[0::2])
    assert same_events(run_tail(redis_server, *common, "--schema", OTHER_SCHEMA_ID), lines[1::2])
    both = run_tail(redis_server, *common, "--schema", SCHEMA_ID, "--schema", OTHER_SCHEMA_ID)
    assert same_events(both, lines)
    assert run_tail(redis_server, *common, "--schema", "https://nobody/v1") == []


def test_members_of_a_consumer_group_share_the_stream(redis_server, publish, redis_client):
    lines = publish(*[SCHEMA_ID] * 10)
    group = ["--group", "readers", "--from", "start"]

    first = run_tail(redis_server, *group, "--consumer", "a", "--count", "4")
    second = run_tail(redis_server, *group, "--consumer", "b", "--timeout", "0.3")
    assert same_events(first + second, lines)
    # Everything printed was acknowledged.
    assert redis_client.xpending(STREAM, "readers")["pending"] == 0

    later = publish(SCHEMA_ID)
    assert same_events(run_tail(redis_server, *group, "--consumer", "a", "--count", "1"), later)


def test_a_group_member_first_gets_what_it_never_acknowledged(redis_server, publish, redis_client):
    lines = publish(*[SCHEMA_ID] * 4)
    redis_client.xgroup_create(STREAM, "readers", id="0")
    # Consumer "a" was given two entries, then died before acknowledging them.
    redis_client.xreadgroup("readers", "a", {STREAM: ">"}, count=2)

    printed = run_tail(redis_server, "--group", "readers", "--consumer", "a", "--timeout", "0.3")
    assert same_events(printed, lines)
    assert redis_client.xpending(STREAM, "readers")["pending"] == 0


def test_a_group_filter_acknowledges_what_it_skips(redis_server, publish, redis_client):
    lines = publish(SCHEMA_ID, OTHER_SCHEMA_ID, SCHEMA_ID)
    printed = run_tail(
        redis_server, "--group", "g", "--from", "0", "--schema", SCHEMA_ID, "--timeout", "0.3"
    )
    assert same_events(printed, lines[0::2])
    assert redis_client.xpending(STREAM, "g")["pending"] == 0


def test_a_new_group_starts_at_the_end_by_default(redis_server, publish):
    publish(SCHEMA_ID)
    process = start_tail(redis_server, "--group", "g", "--count", "1", "--timeout", "20")
    new = publish(OTHER_SCHEMA_ID)

    stdout, _ = process.communicate(timeout=30)
    assert same_events(stdout.splitlines(), new)


def test_ctrl_c_stops_it_cleanly(redis_server):
    process = start_tail(redis_server)
    process.send_signal(signal.SIGINT)

    stdout, stderr = process.communicate(timeout=10)
    assert (process.returncode, stdout, stderr) == (0, "", "")


def test_unreachable_redis_is_retried_until_the_timeout(make_redis_server):
    server = make_redis_server(start=False)
    started = time.monotonic()
    result = CliRunner().invoke(tail, ["--url", server.url, "--timeout", "0.5"])

    assert result.exit_code == 0
    assert time.monotonic() - started < 5
    assert "Cannot read from Redis" in result.stderr
    assert result.stdout == ""


def test_consumer_needs_a_group(redis_server):
    result = CliRunner().invoke(tail, ["--url", redis_server.url, "--consumer", "a"])
    assert result.exit_code == 2
    assert "--consumer needs --group" in result.output


DEAD_CONSUMER = """
import os, signal, sys
import redis
url, stream, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = redis.Redis.from_url(url)
reply = client.xreadgroup(group, "dead", {stream: ">"}, count=count)
print(len(reply[0][1]), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # dies before acknowledging anything
"""


def dead_consumer_takes(redis_server, group: str, count: int) -> None:
    """A real consumer of ``group`` reads ``count`` entries, then is killed."""
    process = subprocess.run(
        [sys.executable, "-c", DEAD_CONSUMER, redis_server.url, STREAM, group, str(count)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert process.stdout.split() == [str(count)]


def pending_of(redis_client, group: str) -> dict[str, int]:
    return {
        consumer["name"].decode(): consumer["pending"]
        for consumer in redis_client.xpending(STREAM, group)["consumers"]
    }


def test_claim_idle_takes_over_what_a_dead_consumer_left(redis_server, publish, redis_client):
    lines = publish(*[SCHEMA_ID] * 10)
    redis_client.xgroup_create(STREAM, "readers", id="0")
    dead_consumer_takes(redis_server, "readers", 3)
    time.sleep(0.3)

    printed = run_tail(
        redis_server,
        *("--group", "readers", "--consumer", "alive", "--claim-idle", "0.2"),
        *("--timeout", "0.5"),
    )
    assert same_events(printed, lines)  # the dead one's three first, then the rest
    assert redis_client.xpending(STREAM, "readers")["pending"] == 0


def test_without_claim_idle_a_dead_consumers_entries_stay_pending(
    redis_server, publish, redis_client
):
    lines = publish(*[SCHEMA_ID] * 10)
    redis_client.xgroup_create(STREAM, "readers", id="0")
    dead_consumer_takes(redis_server, "readers", 3)
    time.sleep(0.3)

    printed = run_tail(redis_server, "--group", "readers", "--consumer", "b", "--timeout", "0.5")
    assert same_events(printed, lines[3:])
    assert pending_of(redis_client, "readers") == {"dead": 3}


def test_entries_pending_for_less_than_claim_idle_are_left_alone(
    redis_server, publish, redis_client
):
    lines = publish(*[SCHEMA_ID] * 5)
    redis_client.xgroup_create(STREAM, "readers", id="0")
    dead_consumer_takes(redis_server, "readers", 2)

    group = ["--group", "readers", "--consumer", "b", "--claim-idle", "60"]
    printed = run_tail(redis_server, *group, "--timeout", "0.5")
    assert same_events(printed, lines[2:])
    assert pending_of(redis_client, "readers") == {"dead": 2}


def test_a_running_tail_claims_entries_once_they_are_idle_long_enough(
    redis_server, publish, redis_client
):
    publish(*[SCHEMA_ID] * 4)  # before the group: never read
    redis_client.xgroup_create(STREAM, "readers", id="$")
    later = publish(SCHEMA_ID, SCHEMA_ID)
    dead_consumer_takes(redis_server, "readers", 2)
    started = time.monotonic()

    # At first the entries are too fresh to take; a later pass takes them.
    process = start_tail(
        redis_server,
        *("--group", "readers", "--consumer", "alive", "--claim-idle", "1.5"),
        *("--count", "2", "--timeout", "20"),
    )
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert same_events(stdout.splitlines(), later)
    assert time.monotonic() - started >= 1.5
    assert redis_client.xpending(STREAM, "readers")["pending"] == 0


def test_claim_idle_needs_a_group(redis_server):
    result = CliRunner().invoke(tail, ["--url", redis_server.url, "--claim-idle", "5"])
    assert result.exit_code == 2
    assert "--claim-idle needs --group" in result.output


def test_without_the_redis_client_tail_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # what Python does for a missing module
    result = CliRunner().invoke(tail, ["--timeout", "0"])
    assert result.exit_code == 1
    assert "pip install 'jupyter_events_ext[redis]'" in result.output


def test_importing_the_sinks_needs_none_of_their_extras():
    # Each module imports its extra only when a handler is made or tail runs.
    code = (
        "import sys\n"
        "for name in ('redis', 'opentelemetry'):\n"
        "    sys.modules[name] = None\n"
        "import jupyter_events_ext.sinks.redis_stream, jupyter_events_ext.sinks.tail\n"
        "import jupyter_events_ext.sinks.otel, jupyter_events_ext.sinks.cloudevents_http\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
