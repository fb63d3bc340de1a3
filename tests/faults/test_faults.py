"""Acknowledged means recorded, against real faults in a real server process: a full disk,
a crash mid-line, sinks that are not files, restarts between a post and its retry.

Each test checks the sink's content exactly: every event the server acknowledged is there
once, every event it refused arrives once its retry is acknowledged, and nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websocket
from server_process import TOKEN, ServerProcess

COMMAND = "https://events.jupyter.org/jupyter_events_ext/command/v1"


def command(client_id: str) -> dict:
    return {"schema_id": COMMAND, "version": 1, "data": {"command_id": client_id}, "id": client_id}


def commands_in(lines: list[dict]) -> list[str]:
    return [line["__id__"] for line in lines if line["__schema__"] == COMMAND]


# -- a full disk ----------------------------------------------------------------------------


def test_a_full_disk_is_never_acknowledged_and_retries_land_once(server):
    process: ServerProcess = server()
    process.start(file_size_limit=40_000)  # about 250 events fit
    ids = [f"disk-{n:03d}-{'x' * 60}" for n in range(400)]
    answers = {client_id: process.post(command(client_id)) for client_id in ids}
    acknowledged = [i for i, (status, _) in answers.items() if status == 204]
    refused = [i for i, (status, _) in answers.items() if status == 503]
    assert acknowledged, "some events fit"
    assert refused, "the disk filled up"
    assert len(acknowledged) + len(refused) == len(ids)
    _, body = answers[refused[0]]
    assert str(process.sink) in body["message"]  # the sink is named
    assert "File too large" in body["message"]
    # What is on the disk is exactly what was acknowledged: whole lines, no fragment.
    assert commands_in(process.sink_lines()) == acknowledged

    # The operator frees space and restarts the server; the browser retries everything.
    process.stop()
    process.start()
    retried = {client_id: process.post(command(client_id))[0] for client_id in ids}
    assert set(retried.values()) == {204}
    recorded = commands_in(process.sink_lines())
    assert sorted(recorded) == sorted(ids)  # all of them, each once
    assert recorded[: len(acknowledged)] == acknowledged


def test_a_full_disk_in_the_middle_of_a_batch(server):
    process: ServerProcess = server()
    process.start(file_size_limit=30_000)
    batches = [[command(f"batch-{b:02d}-{n:02d}-{'y' * 50}") for n in range(20)] for b in range(15)]
    accounted = []
    failed_batches = []
    for batch in batches:
        status, body = process.post({"events": batch})
        if status == 200:
            assert body == {"accepted": 20, "duplicates": 0, "rejected": []}
            accounted.extend(event["id"] for event in batch)
        else:
            assert status == 503
            assert body["accepted"] + body["not_recorded"] == 20
            accounted.extend(event["id"] for event in batch[: body["accepted"]])
            failed_batches.append(batch)
    assert failed_batches
    assert commands_in(process.sink_lines()) == accounted

    process.stop()
    process.start()
    for batch in failed_batches:
        status, body = process.post({"events": batch})
        assert status == 200
        assert body["accepted"] + body["duplicates"] == 20
        assert body["rejected"] == []
    everything = [event["id"] for batch in batches for event in batch]
    assert sorted(commands_in(process.sink_lines())) == sorted(everything)


def test_a_full_disk_under_the_events_socket_is_never_acknowledged(server):
    process: ServerProcess = server()
    process.start(file_size_limit=30_000)
    batches = [[command(f"sock-{b:02d}-{n:02d}-{'z' * 50}") for n in range(20)] for b in range(15)]
    ws = process.events_socket()
    answers = []
    for batch in batches:  # all sent before any answer is read
        ws.send(json.dumps({"events": batch}))
    for _ in batches:
        answers.append(json.loads(ws.recv()))
    accounted, failed_batches = [], []
    for batch, answer in zip(batches, answers):
        if answer["status"] == 200:
            assert answer == {"status": 200, "accepted": 20, "duplicates": 0, "rejected": []}
            accounted.extend(event["id"] for event in batch)
        else:
            assert answer["status"] == 503
            assert "File too large" in answer["message"]
            assert answer["accepted"] + answer["not_recorded"] == 20
            accounted.extend(event["id"] for event in batch[: answer["accepted"]])
            failed_batches.append(batch)
    assert failed_batches
    assert accounted
    assert commands_in(process.sink_lines()) == accounted

    process.stop()
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        ws.recv()  # the socket went with the server
    process.start()
    ws = process.events_socket()
    for batch in failed_batches:
        ws.send(json.dumps({"events": batch}))
        answer = json.loads(ws.recv())
        assert answer["status"] == 200
        assert answer["accepted"] + answer["duplicates"] == 20
    ws.close()
    everything = [event["id"] for batch in batches for event in batch]
    assert sorted(commands_in(process.sink_lines())) == sorted(everything)


# -- a crash mid-line -------------------------------------------------------------------------


def test_a_line_torn_by_a_crash_is_set_aside_and_the_next_events_are_whole(server):
    process: ServerProcess = server()
    process.start()
    assert process.post(command("before-crash"))[0] == 204
    process.stop(signal.SIGKILL)
    with process.sink.open("ab") as sink:  # the write the crash cut short
        sink.write(b'{"__timestamp__": "2026-11-27T10:00:00.000000Z", "__sche')
    process.start()
    assert process.post(command("after-crash"))[0] == 204
    assert commands_in(process.sink_lines()) == ["before-crash", "after-crash"]
    torn = Path(str(process.sink) + ".torn").read_bytes()
    assert torn == b'{"__timestamp__": "2026-11-27T10:00:00.000000Z", "__sche\n'
    assert "torn line" in process.log()


# -- sinks that are not regular files ---------------------------------------------------------


def test_start_up_never_blocks_on_a_fifo_or_dev_stdout(server, tmp_path):
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    done = threading.Event()

    def read_fifo() -> None:
        # A log shipper: it reads until the writers close, then opens the FIFO again.
        while not done.is_set():
            with fifo.open("rb") as reader:
                received.extend(reader)

    reader = threading.Thread(target=read_fifo, daemon=True)
    reader.start()
    process: ServerProcess = server(
        f"""
        import logging
        from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler
        c.EventsExtensionApp.event_handlers = [
            JsonLinesFileHandler({str(fifo)!r}),
            logging.FileHandler("/dev/stdout"),
        ]
        """
    )
    process.start()  # raises if start-up hangs (60 s) or fails
    assert process.post(command("through-a-fifo"))[0] == 204
    done.set()
    process.stop()
    reader.join(10)
    assert commands_in([json.loads(line) for line in received]) == ["through-a-fifo"]
    assert '"__id__": "through-a-fifo"' in process.log()  # /dev/stdout is the server's log


# -- a restart between a post and its retry ---------------------------------------------------


@pytest.mark.parametrize("ids_file", ["kept", "lost"])
def test_a_retry_after_a_crash_is_recorded_once_with_a_file_sink(server, ids_file):
    process: ServerProcess = server()
    process.start()
    assert process.post(command("posted-then-crashed"))[0] == 204
    process.stop(signal.SIGKILL)  # the answer may never have reached the browser
    if ids_file == "lost":
        process.recent_ids.unlink()  # the file sink itself is read back
    process.start()
    assert process.post(command("posted-then-crashed"))[0] == 204
    status, body = process.post({"events": [command("posted-then-crashed"), command("new")]})
    assert (status, body) == (200, {"accepted": 1, "duplicates": 1, "rejected": []})
    assert commands_in(process.sink_lines()) == ["posted-then-crashed", "new"]


@pytest.mark.parametrize("ids_file", ["kept", "lost"])
def test_a_retry_after_a_restart_is_recorded_once_with_the_redis_sink(
    server, make_redis_server, ids_file
):
    redis = make_redis_server()
    process: ServerProcess = server(
        f"""
        from jupyter_events_ext.sinks.redis_stream import RedisStreamHandler
        c.EventsExtensionApp.event_handlers = [
            RedisStreamHandler({redis.url!r}, stream="events", flush_timeout=10)
        ]
        """
    )
    process.start()
    assert process.post(command("posted-then-restarted"))[0] == 204
    process.stop()  # SIGTERM: the handler sends what waits before the process ends
    if ids_file == "lost":
        # Another server of the fleet, or one whose disk was wiped: Redis itself dedups.
        process.recent_ids.unlink()
    process.start()
    assert process.post(command("posted-then-restarted"))[0] == 204
    assert process.post(command("after"))[0] == 204
    process.stop()
    entries = [json.loads(entry["event"]) for entry in redis.entries("events")]
    assert commands_in(entries) == ["posted-then-restarted", "after"]


def test_messages_unanswered_when_the_server_crashed_are_recorded_once_when_sent_again(server):
    process: ServerProcess = server()
    process.start()
    batches = [[command(f"crash-{b:03d}-{n:02d}") for n in range(50)] for b in range(200)]
    ws = process.events_socket()
    for batch in batches:  # the browser waits for each answer; a burst makes a crash likelier
        ws.send(json.dumps({"events": batch}))
    answered = 0
    while answered < 10:  # some recorded and answered...
        assert json.loads(ws.recv())["status"] == 200
        answered += 1
    process.stop(signal.SIGKILL)  # ...then a crash, with more in flight
    answered += len(answers_left(ws))
    assert answered < len(batches), "the crash came too late to test anything"
    recorded_before = len(commands_in(process.sink_lines()))

    process.start()
    ws = process.events_socket()
    duplicates = 0
    for batch in batches[answered:]:  # every unanswered message, sent again
        ws.send(json.dumps({"events": batch}))
        answer = json.loads(ws.recv())
        assert answer["status"] == 200
        assert answer["accepted"] + answer["duplicates"] == 50
        duplicates += answer["duplicates"]
    ws.close()
    everything = [event["id"] for batch in batches for event in batch]
    recorded = commands_in(process.sink_lines())
    assert sorted(recorded) == sorted(everything)  # each once
    # What was recorded but never answered came back as duplicates, not twice.
    assert duplicates == recorded_before - answered * 50


def answers_left(ws: websocket.WebSocket) -> list[dict]:
    """The answers still to read on a socket whose server is gone."""
    answers = []
    try:
        while True:
            answers.append(json.loads(ws.recv()))
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        pass
    assert all(answer["status"] == 200 for answer in answers)
    return answers


def test_a_retry_after_a_crash_is_recognized_across_a_rotation(server):
    process: ServerProcess = server("c.EventsExtensionApp.default_sink_max_bytes = 4000\n")
    process.start()
    ids = [f"rotating-{n:02d}" for n in range(40)]  # about 12 KB: the sink rotates
    for client_id in ids:
        assert process.post(command(client_id))[0] == 204
    process.stop(signal.SIGKILL)
    process.recent_ids.unlink()  # only the sink files remember
    rotated = Path(str(process.sink) + ".1")
    assert rotated.exists()
    process.start()
    last_in_rotated = commands_in(process.sink_lines(rotated))[-1]
    for client_id in (last_in_rotated, ids[-1]):
        assert process.post({"events": [command(client_id)]})[1]["duplicates"] == 1
    recorded = [
        i
        for path in sorted(process.sink.parent.glob("events.jsonl*"), reverse=True)
        for i in commands_in(process.sink_lines(path))
    ]
    assert recorded == ids[-len(recorded) :]  # each once, in order, the oldest rotated out


# -- a full disk under the snapshot store -----------------------------------------------------


def snapshot_notebook(source: str) -> dict:
    cell = {
        "cell_type": "code",
        "id": "c1",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}


def test_a_full_disk_stores_no_snapshot_part_and_the_retry_lands_once(server, tmp_path):
    store = tmp_path / "snapshots"
    process: ServerProcess = server(f"c.EventsExtensionApp.snapshot_dir = {str(store)!r}\n")
    process.start(file_size_limit=20_000)
    big = snapshot_notebook("x = 1\n" * 10_000)  # about 60 kB: more than the "disk" holds
    status, body = process.request("POST", "snapshots", big)
    assert status == 503
    assert body["message"] == "snapshot not stored, retry later: File too large"
    assert list(store.iterdir()) == []  # no part, no temporary file

    small = snapshot_notebook("x = 1")
    status, body = process.request("POST", "snapshots", small)
    assert status == 201
    assert sorted(path.name for path in store.iterdir()) == [f"{body['sha256']}.ipynb"]

    # Space is freed, the server restarted; the browser retries the big one.
    process.stop()
    process.start()
    status, body = process.request("POST", "snapshots", big)
    assert status == 201
    stored = store / f"{body['sha256']}.ipynb"
    assert json.loads(stored.read_bytes()) == big
    assert len(list(store.iterdir())) == 2


# -- a hostile client -------------------------------------------------------------------------


def test_a_client_cannot_forge_a_server_event_through_api_events(server):
    process: ServerProcess = server()
    process.start()
    forged = {
        "schema_id": "https://events.jupyter.org/jupyter_server/contents_service/v1",
        "version": 1,
        "data": {"action": "delete", "path": "thesis.ipynb"},
        "timestamp": "2001-01-01T00:00:00+00:00Z",
    }
    request = urllib.request.Request(
        f"{process.url}/api/events",
        data=json.dumps(forged).encode(),
        method="POST",
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert "only the server emits" in json.loads(refused.value.read())["message"]
    assert process.post(command("after"))[0] == 204
    assert commands_in(process.sink_lines()) == ["after"]
    assert "thesis.ipynb" not in process.sink.read_text()
