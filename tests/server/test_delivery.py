"""Acknowledged means recorded, in a running server: sink failures, the size rule, ids,
echoed input, who may post what. The same promises against real OS faults and real
restarts are in tests/faults/."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from posted_events import COMMAND, CONTENTS, command

from jupyter_events_ext.server.app import SHIPPED_SCHEMAS


class Switchable(logging.Handler):
    """A sink that fails while ``failing``: by raising, or as a file handler does, by
    handing its error to ``handleError``."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.failing = False
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failing:
            self.lines.append(self.format(record))
            return
        if self.how == "raises":
            raise OSError(28, "No space left on device")
        try:
            raise OSError(27, "File too large")
        except OSError:
            self.handleError(record)

    def __repr__(self) -> str:
        return f"<Switchable {self.how}>"


@pytest.fixture(params=["raises", "swallows"])
def flaky_sink(request):
    return Switchable(request.param)


@pytest.fixture
def events_config(flaky_sink):
    return {"event_handlers": [flaky_sink]}


@pytest.fixture(autouse=True)
def _quiet_handle_error(monkeypatch):
    monkeypatch.setattr(logging, "raiseExceptions", False)


def recorded_ids(sink: Switchable) -> list[str]:
    return [json.loads(line).get("__id__") for line in sink.lines]


async def test_a_failed_sink_is_never_acknowledged_and_a_retry_is_recorded(
    send, flaky_sink, events_config
):
    assert (await send(command("a", id="e1"))).code == 204
    flaky_sink.failing = True
    failed = await send(command("b", id="e2"))
    assert failed.code == 503
    message = json.loads(failed.body)["message"]
    assert message.startswith("not recorded, retry later: ")
    assert f"<Switchable {flaky_sink.how}>" in message  # names the sink
    assert "Errno" in message
    flaky_sink.failing = False
    # The id was not remembered: the retry is recorded, not taken for a duplicate.
    assert (await send(command("b", id="e2"))).code == 204
    assert (await send(command("b", id="e2"))).code == 204
    assert recorded_ids(flaky_sink) == ["e1", "e2"]


async def test_a_batch_stops_at_the_failed_sink_and_accounts_for_every_event(
    send, flaky_sink, events_config
):
    events = [command(str(i), id=f"b{i}") for i in range(5)]
    events[1] = {**events[1], "version": "9"}  # rejected: no such version

    class FailAfter(logging.Filter):
        # The sink starts failing at the fourth event it is given.
        seen = 0

        def filter(self, record: logging.LogRecord) -> bool:
            FailAfter.seen += 1
            flaky_sink.failing = FailAfter.seen >= 3
            return True

    flaky_sink.addFilter(FailAfter())
    failed = await send({"events": events})
    assert failed.code == 503
    body = json.loads(failed.body)
    assert body["accepted"] == 2  # b0, b2
    assert body["duplicates"] == 0
    assert [r["index"] for r in body["rejected"]] == [1]
    assert body["not_recorded"] == 2  # b3 failed, b4 was not tried
    assert body["message"].startswith("event 3: not recorded, retry later")

    flaky_sink.removeFilter(flaky_sink.filters[0])
    flaky_sink.failing = False
    retried = await send({"events": events})
    assert retried.code == 200
    assert json.loads(retried.body) == {
        "accepted": 2,
        "duplicates": 2,
        "rejected": [json.loads(failed.body)["rejected"][0]],
    }
    assert recorded_ids(flaky_sink) == ["b0", "b2", "b3", "b4"]


# -- the size rule and echoed input -------------------------------------------------------


@pytest.fixture
def size_config():
    return {"max_event_size": 100}


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # {"command_id":"…"} is 17 bytes besides the text; é is 2 bytes in UTF-8.
        ("é" * 41, 99),
        ("é" * 42, 101),
        ("a" * 83, 100),
        ("\u2603" * 28, 101),  # 3 bytes each
    ],
)
@pytest.mark.parametrize("events_config", [{"max_event_size": 100}])
async def test_one_size_rule_alone_and_in_a_batch(post, read_sink, events_config, text, size):
    event = {"schema_id": COMMAND, "version": 1, "data": {"command_id": text}}
    assert len(json.dumps(event["data"], separators=(",", ":"), ensure_ascii=False).encode()) == (
        size
    )
    alone = await post(event)
    batch = await post({"events": [command("before"), event, command("after")]})
    result = json.loads(batch.body)
    if size <= 100:
        assert alone.code == 204
        assert result == {"accepted": 3, "duplicates": 0, "rejected": []}
    else:
        message = f"event data is {size} bytes, over max_event_size (100 bytes)"
        assert alone.code == 413
        assert json.loads(alone.body)["message"] == message
        assert result == {
            "accepted": 2,
            "duplicates": 0,
            "rejected": [{"index": 1, "message": message}],
        }
    names = [e["command_id"] for e in read_sink(COMMAND)]
    assert names == ([text, "before", text, "after"] if size <= 100 else ["before", "after"])


@pytest.mark.parametrize("events_config", [{}])
@pytest.mark.parametrize(
    "hostile",
    [
        command(timestamp="9" * 1_000_000),
        {**command(), "x" * 1_000_000: 1},
        {"schema_id": "s" * 1_000_000, "version": 1, "data": {}},
        {**command(), "version": "v" * 1_000_000},
        {**command(), "data": {"__" + "k" * 1_000_000: 1}},
    ],
)
async def test_errors_never_echo_unbounded_input(post, read_sink, events_config, hostile, caplog):
    body = json.dumps(hostile)
    response = await post(body)
    assert response.code == 400
    assert len(json.loads(response.body)["message"]) < 600
    assert all(len(record.getMessage()) < 2000 for record in caplog.records)
    batch = await post({"events": [command("ok"), hostile]})
    assert len(json.loads(batch.body)["rejected"][0]["message"]) < 600
    assert [e["command_id"] for e in read_sink(COMMAND)] == ["ok"]


# -- who may post what -------------------------------------------------------------------


@pytest.fixture
def shipped_id_new_version(jp_data_dir):
    """A data-dir schema reusing a shipped $id with a new version, before the server starts."""
    shipped = yaml.safe_load((SHIPPED_SCHEMAS / "command" / "v1.yaml").read_text())
    events = Path(jp_data_dir) / "events"
    events.mkdir(parents=True)
    (events / "command-v2.yaml").write_text(yaml.safe_dump({**shipped, "version": "2"}))


@pytest.mark.parametrize("events_config", [{}])
async def test_a_new_version_of_a_shipped_id_is_not_postable(
    shipped_id_new_version, jp_fetch, post, read_sink, events_config
):
    listed = json.loads((await jp_fetch("jupyter-events-ext", "schemas")).body)["schemas"]
    assert [(s["version"], s["client"]) for s in listed if s["id"] == COMMAND] == [
        ("1", True),
        ("2", False),
    ]
    refused = await post({**command(), "version": "2"})
    assert refused.code == 400
    assert json.loads(refused.body)["message"] == (
        f"clients may not post schema {COMMAND!r}: version 2 is not among the versions "
        "clients may post; an operator can open it with "
        "c.EventsExtensionApp.allowed_client_schemas"
    )
    assert (await post(command())).code == 204
    assert [e["__schema_version__"] for e in read_sink(COMMAND)] == ["1"]


@pytest.mark.parametrize("events_config", [{"allowed_client_schemas": [[COMMAND, "2"]]}])
async def test_an_operator_opens_one_version(shipped_id_new_version, post, events_config):
    assert (await post({**command(), "version": "2"})).code == 204


@pytest.mark.parametrize(
    "events_config", [{"forward_server_events": False, "allowed_client_schemas": [CONTENTS]}]
)
async def test_server_schemas_are_never_postable_even_unforwarded(
    jp_serverapp, events_app, post, read_sink, events_config
):
    # An operator registered jupyter_server's schema here too, and listed it.
    schema = jp_serverapp.event_logger.schemas.get(CONTENTS)
    events_app.event_logger.register_schema(json.loads(repr(schema)))
    response = await post(
        {"schema_id": CONTENTS, "version": 1, "data": {"action": "get", "path": "x"}}
    )
    assert response.code == 400
    assert "one of jupyter_server's own schemas" in json.loads(response.body)["message"]
    assert read_sink(CONTENTS) == []


# -- on the disk before the answer, on request ------------------------------------------


@pytest.mark.parametrize(("events_config", "per_answer"), [
    ({"sink_fsync": "batch"}, 1),
    ({"sink_fsync": "never"}, 0),
    ({}, 0),
])  # fmt: skip
async def test_batch_fsync_is_one_per_request_or_message_before_its_answer(
    send, sink_path, fsyncs, events_config, per_answer
):
    batch = {"events": [command(f"c{n}", id=f"batch-{n}") for n in range(100)]}
    assert (await send(batch)).code == 200
    assert fsyncs.count(str(sink_path)) == per_answer  # all 100 events at once
    assert (await send(command("one", id="one"))).code == 204
    assert fsyncs.count(str(sink_path)) == 2 * per_answer
    assert len(sink_path.read_text().splitlines()) == 101
