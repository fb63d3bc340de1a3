"""Servers of one user share a home (JupyterHub's named servers, two `jupyter lab`s): one
writer per file, and every acknowledged event recorded once across their files.

Real server processes, posting at once through many rotations of their default sinks.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from server_process import ServerProcess

from jupyter_events_ext.analysis import read_events

COMMAND = "https://events.jupyter.org/jupyter_events_ext/command/v1"
# About 170 bytes an event: each server rotates its sink a dozen times or more; every
# rotated file is kept, so that every event ever acknowledged can be looked for.
ROTATING = """
c.EventsExtensionApp.default_sink_max_bytes = 4000
c.EventsExtensionApp.default_sink_backups = 1000
"""


def command(client_id: str) -> dict:
    return {"schema_id": COMMAND, "version": 1, "data": {"command_id": client_id}, "id": client_id}


def send_events(process: ServerProcess, prefix: str, acknowledged: list[str]) -> None:
    """What a browser does, from two tabs at once: one POSTs events one by one, the
    other sends batches on the events socket; only what is answered as recorded counts."""

    def post() -> None:
        for n in range(150):
            client_id = f"{prefix}-post-{n:03d}"
            if process.post(command(client_id))[0] == 204:
                acknowledged.append(client_id)

    def socket() -> None:
        ws = process.events_socket()
        for b in range(25):
            batch = [command(f"{prefix}-sock-{b:02d}-{n}") for n in range(10)]
            ws.send(json.dumps({"events": batch}))
            answer = json.loads(ws.recv())
            if answer["status"] == 200:
                acknowledged.extend(event["id"] for event in batch)
        ws.close()

    threads = [threading.Thread(target=post), threading.Thread(target=socket)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize(
    ("names", "files"),
    [
        (("", ""), ["events.jsonl", "events-2.jsonl"]),
        (("lab", "analysis"), ["events-lab.jsonl", "events-analysis.jsonl"]),
    ],
    ids=["two jupyter labs", "two named servers of a hub"],
)
def test_servers_sharing_a_home_each_record_every_event_once(server, tmp_path, names, files):
    shared = tmp_path / "home" / "data"
    servers = [
        server(
            ROTATING,
            name=f"server-{n}",
            data_dir=shared,
            env={"JUPYTERHUB_SERVER_NAME": name} if name else {},
        )
        for n, name in enumerate(names)
    ]
    for process in servers:
        process.start()
    acknowledged: list[list[str]] = [[] for _ in servers]
    threads = [
        threading.Thread(target=send_events, args=(process, f"s{n}", acknowledged[n]))
        for n, process in enumerate(servers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [len(ids) for ids in acknowledged] == [400, 400]  # nothing refused

    # Every line of every file is whole, and every acknowledged event is there once.
    directory = shared / "jupyter_events_ext"
    sink_files = sorted(path for path in directory.iterdir() if path.name.startswith("events"))
    assert not [path for path in sink_files if path.name.endswith(".torn")]
    recorded = [
        line["__id__"]
        for path in sink_files
        for line in servers[0].sink_lines(path)
        if line["__schema__"] == COMMAND
    ]
    assert sorted(recorded) == sorted(acknowledged[0] + acknowledged[1])
    # Each server says which file is its own; they differ.
    assert [process.request("GET", "info")[1]["sinks"] for process in servers] == [
        [str(directory / name)] for name in files
    ]
    # Each server's file rotated many times, and holds only its own events.
    for process, name, own in zip(servers, files, acknowledged):
        assert len(list(directory.glob(f"{name}.*"))) >= 10
        mine = [
            line["__id__"]
            for path in directory.glob(f"{name}*")
            for line in process.sink_lines(path)
            if line["__schema__"] == COMMAND
        ]
        assert sorted(mine) == sorted(own)
    # Reading the directory reads the set as one.
    table = read_events(directory)
    ids = [i for i, schema in zip(table["__id__"].to_pylist(), table["__schema__"].to_pylist())
           if schema == COMMAND]  # fmt: skip
    assert sorted(ids) == sorted(recorded)


def test_a_restarted_server_recognizes_a_retry_recorded_in_another_servers_file(server, tmp_path):
    # Two `jupyter lab`s take their files in the order they start: restarted, a server
    # may take the other's. A browser's retry must still count once.
    shared = tmp_path / "home" / "data"
    first = server(name="first", data_dir=shared)
    second = server(name="second", data_dir=shared)
    first.start()
    second.start()
    assert second.post(command("sent-to-second"))[0] == 204
    first.stop()
    second.stop()
    second.start()  # now takes events.jsonl; what it recorded is in events-2.jsonl
    first.start()
    assert second.request("GET", "info")[1]["sinks"] == [str(second.sink)]
    status, body = second.post({"events": [command("sent-to-second")]})
    assert (status, body) == (200, {"accepted": 0, "duplicates": 1, "rejected": []})


def test_a_configured_file_another_server_writes_is_refused_with_a_clear_error(server, tmp_path):
    sink = tmp_path / "shared.jsonl"
    config = f"""
    from jupyter_events_ext.sinks.jsonl import JsonLinesFileHandler
    c.EventsExtensionApp.event_handlers = [JsonLinesFileHandler({str(sink)!r})]
    """
    first = server(config, name="first")
    second = server(config, name="second")
    first.start()
    with pytest.raises(RuntimeError, match="jupyter_events_ext did not load"):
        second.start()
    log = second.log()
    assert f"{sink} is written by another process (pid {first.process.pid})" in log
    assert "Give each server a file of its own" in log
    assert first.post(command("first-only"))[0] == 204
    assert [line["__id__"] for line in first.sink_lines(Path(sink))] == ["first-only"]
