"""The extension's traits, GET schemas and GET info, forwarding and the EventLogger name clash."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from posted_events import COMMAND, CONTENTS, command
from stream_client import open_stream

from jupyter_events_ext.server.app import SHIPPED_SCHEMAS

SHIPPED_IDS = {
    f"https://events.jupyter.org/jupyter_events_ext/{name}/v1"
    for name in (
        "command",
        "document",
        "cell-execution",
        "kernel",
        "active-document",
        "consent",
        "cell-edit",
        "notebook-structure",
        "attention",
        "cell-outputs",
        "clipboard",
        "notebook-snapshot",
        "capture-drops",
    )
}


def acme_schema(name: str, version: str = "1") -> dict:
    return {
        "$id": f"https://example.org/acme/{name}/v1",
        "version": version,
        "title": f"ACME {name}",
        "type": "object",
        "properties": {"n": {"type": "integer"}},
    }


# -- the shipped UI-action schemas ------------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(SHIPPED_SCHEMAS.glob("*/v*.yaml")), ids=lambda p: p.parent.name
)
def test_shipped_schemas_are_documented_and_closed(path: Path):
    schema = yaml.safe_load(path.read_text())
    assert schema["$id"] == f"https://events.jupyter.org/jupyter_events_ext/{path.parent.name}/v1"
    assert schema["version"] == "1"
    assert schema["title"]
    assert len(schema["description"]) > 40
    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert prop["description"], name
        assert name not in {"source", "output", "outputs", "clipboard", "env", "environment"}


async def test_get_schemas_lists_every_schema_and_who_may_post_it(jp_fetch):
    response = await jp_fetch("jupyter-events-ext", "schemas")
    schemas = json.loads(response.body)["schemas"]
    client = {s["id"] for s in schemas if s["client"]}
    assert client == SHIPPED_IDS
    server = {s["id"] for s in schemas if not s["client"]}
    assert CONTENTS in server
    # jupyter_server's own schemas (what its /api/events/subscribe streams) are said so,
    # not those registered here server-side (acme's): the browser's IEventManager
    # streams the first only.
    own = {s["id"] for s in schemas if s["server"]}
    assert CONTENTS in own
    assert own < server
    assert all("/jupyter_server/" in schema_id for schema_id in own)
    assert all("acme" in schema_id for schema_id in server - own)
    for entry in schemas:
        assert entry["schema"]["$id"] == entry["id"]
        assert entry["version"] == str(entry["schema"]["version"])


@pytest.fixture
def installed_schemas(jp_data_dir):
    """Schemas another package installed as data files, before the server starts."""
    events = Path(jp_data_dir) / "events" / "acme"
    (events / "sub").mkdir(parents=True)
    (events / "tool.yaml").write_text(yaml.safe_dump(acme_schema("tool")))
    (events / "sub" / "tool-v2.json").write_text(json.dumps(acme_schema("tool", "2")))
    (events / "broken.yaml").write_text("$id: [not, a, schema")
    (events / "README.md").write_text("not a schema")
    return events


@pytest.mark.parametrize(
    "events_config", [{"allowed_client_schemas": ["https://example.org/acme/tool/v1"]}]
)
async def test_schemas_installed_as_data_files_are_registered(
    capfd, installed_schemas, jp_fetch, post, read_sink, events_config
):
    response = await jp_fetch("jupyter-events-ext", "schemas")
    acme = [s for s in json.loads(response.body)["schemas"] if "acme" in s["id"]]
    assert [(s["version"], s["client"]) for s in acme] == [("1", True), ("2", True)]
    startup = capfd.readouterr().err  # the extension's log, written at start-up
    assert "could not register schema" in startup
    assert "broken.yaml" in startup
    tool = "https://example.org/acme/tool/v1"
    assert (await post({"schema_id": tool, "version": 1, "data": {"n": 1}})).code == 204
    assert (await post({"schema_id": tool, "version": "2", "data": {"n": 2}})).code == 204
    assert [e["__schema_version__"] for e in read_sink(tool)] == ["1", "2"]


async def test_data_file_schemas_are_server_side_by_default(installed_schemas, post):
    response = await post(
        {"schema_id": "https://example.org/acme/tool/v1", "version": 1, "data": {}}
    )
    assert response.code == 400
    assert "server-side schema" in json.loads(response.body)["message"]


@pytest.fixture
def schema_server(tmp_path):
    """A local HTTP server with one schema, for extra_schemas URLs."""
    (tmp_path / "served.json").write_text(json.dumps(acme_schema("served")))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/served.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
def extra_sources(tmp_path, schema_server):
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(acme_schema("one")))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "two.json").write_text(json.dumps(acme_schema("two")))
    return [str(tmp_path / "one.yaml"), str(tmp_path / "dir"), schema_server]


@pytest.fixture
def events_config(extra_sources):
    return {"extra_schemas": extra_sources}


async def test_extra_schemas_from_files_directories_and_urls(jp_fetch):
    response = await jp_fetch("jupyter-events-ext", "schemas")
    ids = {s["id"] for s in json.loads(response.body)["schemas"]}
    for name in ("one", "two", "served"):
        assert f"https://example.org/acme/{name}/v1" in ids


# -- sinks ------------------------------------------------------------------------------

memory = io.StringIO()


def memory_handler() -> logging.Handler:
    handler = logging.StreamHandler(memory)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    return handler


@pytest.fixture
def clean_memory():
    memory.seek(0)
    memory.truncate()
    return memory


async def test_default_sink_is_a_json_lines_file_in_the_data_dir(capfd, jp_fetch, post, sink_path):
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    assert info["sinks"] == [str(sink_path)]
    startup = capfd.readouterr().err  # the extension's log, written at start-up
    assert f"recording events to {sink_path}" in startup
    await post(command())
    (line,) = sink_path.read_text().splitlines()
    assert json.loads(line)["__schema__"] == COMMAND


@pytest.fixture
def usual_umask():
    """The umask most users have (022), which leaves new files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_data_directory_and_its_files_are_the_owners_only(
    usual_umask, jp_fetch, post, sink_path
):
    await post(command("mine", id="mine-1"))  # with an id, which recent-ids.jsonl keeps
    await jp_fetch("jupyter-events-ext", "info")
    directory = sink_path.parent
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in directory.iterdir()}
    made = ("events.jsonl", "recent-ids.jsonl", "path-hash.key")
    assert {name: modes[name] for name in made} == dict.fromkeys(made, oct(0o600))
    assert oct(directory.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("events_config", [{"event_handlers": None}])
async def test_none_records_nothing_but_the_stream_still_works(
    jp_fetch, jp_ws_fetch, post, sink_path, events_config
):
    ws = await open_stream(jp_ws_fetch)
    assert (await post(command())).code == 204
    assert json.loads(await ws.read_message())["event"]["__schema__"] == COMMAND
    assert not sink_path.exists()
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    assert info["sinks"] == []
    ws.close()


@pytest.mark.usefixtures("clean_memory")
@pytest.mark.parametrize("events_config", [{"event_handlers": [memory_handler()]}])
async def test_any_logging_handler_gets_one_json_envelope_per_line(post, sink_path, events_config):
    clean = memory.getvalue()
    await post({"events": [command("a"), command("b")]})
    lines = memory.getvalue()[len(clean) :].splitlines()
    ui = [json.loads(line) for line in lines if COMMAND in line]
    assert [e["command_id"] for e in ui] == ["a", "b"]
    assert not sink_path.exists()


# -- jupyter_server's own events --------------------------------------------------------


async def create_file(jp_fetch) -> None:
    await jp_fetch("api", "contents", method="POST", body=json.dumps({"type": "file"}))


async def test_server_events_are_forwarded_by_default(jp_fetch, read_sink):
    await create_file(jp_fetch)
    (envelope,) = [e for e in read_sink(CONTENTS) if e["action"] == "save"]
    assert envelope["__timestamp__"].endswith("Z")
    assert "+00:00" not in envelope["__timestamp__"]


@pytest.mark.parametrize("events_config", [{"forward_server_events": False}])
async def test_forwarding_can_be_turned_off(jp_fetch, jp_ws_fetch, read_sink, post, events_config):
    ws = await open_stream(jp_ws_fetch)
    await create_file(jp_fetch)
    await post(command())
    assert json.loads(await ws.read_message())["event"]["__schema__"] == COMMAND
    assert read_sink(CONTENTS) == []
    ws.close()


# -- the name clash: c.EventLogger reaches jupyter_server's logger, not this one ---------


@pytest.fixture
def extra_config(request, sink_path):
    """``c.EventLogger.handlers`` for the name-clash tests, as a config file would set it."""
    kind = getattr(request, "param", None)
    if kind == "same-file":
        sink_path.parent.mkdir(parents=True, exist_ok=True)
        return {"EventLogger": {"handlers": [logging.FileHandler(sink_path)]}}
    if kind == "memory":
        return {"EventLogger": {"handlers": [memory_handler()]}}
    return {}


shared = logging.StreamHandler(memory)


@pytest.mark.parametrize("extra_config", ["same-file"], indirect=True)
@pytest.mark.parametrize("forward", [True, False])
async def test_a_file_both_loggers_write_gets_each_event_once(
    jp_fetch, post, read_sink, events_app, jp_serverapp, extra_config, forward
):
    if not forward:
        events_app.forwarder.stop()
    await create_file(jp_fetch)
    await post(command())
    assert [e["action"] for e in read_sink(CONTENTS)] == ["get", "save"]
    assert len(read_sink(COMMAND)) == 1


@pytest.mark.usefixtures("clean_memory")
@pytest.mark.parametrize(
    ("extra_config", "events_config"),
    [({"EventLogger": {"handlers": [shared]}}, {"event_handlers": [shared]})],
)
async def test_one_handler_in_both_configurations_gets_each_event_once(
    jp_fetch, post, jp_serverapp, extra_config, events_config
):
    await create_file(jp_fetch)
    await post(command())
    lines = [json.loads(line) for line in memory.getvalue().splitlines()]
    assert [e.get("action", e["__schema__"]) for e in lines] == ["get", "save", COMMAND]
    assert shared not in jp_serverapp.event_logger.handlers  # lent to this extension


@pytest.mark.usefixtures("clean_memory")
@pytest.mark.parametrize("extra_config", ["memory"], indirect=True)
async def test_c_eventlogger_handlers_does_not_reach_this_extension(
    jp_fetch, post, read_sink, extra_config
):
    await create_file(jp_fetch)
    await post(command())
    server_lines = memory.getvalue()
    assert CONTENTS in server_lines
    assert COMMAND not in server_lines
    # jupyter_server's own sink has both; this extension's leaves out "get" (forward_exclude).
    assert [json.loads(line)["action"] for line in server_lines.splitlines()] == ["get", "save"]
    assert [e["action"] for e in read_sink(CONTENTS)] == ["save"]
    assert len(read_sink(COMMAND)) == 1


async def test_stopping_gives_lent_sinks_back(jp_serverapp, events_app):
    forwarder = events_app.forwarder
    assert forwarder in jp_serverapp.event_logger.handlers
    await events_app.stop_extension()
    assert forwarder not in jp_serverapp.event_logger.handlers


# -- info ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events_config",
    [{"max_body_size": 10, "max_batch_size": 2, "max_event_size": 3, "stamp_user": True}],
)
async def test_info_reports_limits_and_stream_state(jp_fetch, events_config):
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    assert info["limits"]["max_body_size"] == 10
    assert info["limits"]["max_batch_size"] == 2
    assert info["limits"]["max_event_size"] == 3
    assert info["stamp_user"] is True
    assert info["forward_server_events"] is True
    assert info["stream"] == {
        "last_seq": 0,
        "subscribers": 0,
        "buffered_bytes": 0,
        "buffer_size": 10000,
        "buffer_bytes": 32 * 1024 * 1024,
        "subscriber_queue_size": 5000,
        "subscriber_queue_bytes": 4 * 1024 * 1024,
        "max_subscribers": 100,
    }
    assert len(info["run_id"]) == 32


def test_every_trait_states_its_default():
    from jupyter_events_ext.server.app import EventsExtensionApp

    own = set(EventsExtensionApp.class_own_traits(config=True))
    assert len(own) == 32
    for name in own:
        assert "Default" in EventsExtensionApp.class_traits()[name].help, name


async def test_the_path_hash_key_is_made_once_for_this_user_only(jp_fetch, jp_data_dir):
    key_file = Path(jp_data_dir) / "jupyter_events_ext" / "path-hash.key"
    first = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)["path_hash_key"]
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)["path_hash_key"]
    assert again == first
    denied = await jp_fetch(
        "jupyter-events-ext", "info", headers={"Authorization": ""}, raise_error=False
    )
    assert denied.code == 403
    assert first not in denied.body.decode()


@pytest.fixture
def shared_key(tmp_path):
    key_file = tmp_path / "hub-secret.key"
    key_file.write_text("ab" * 32 + "\n")
    return str(key_file)


@pytest.mark.parametrize("events_config", [{}])
async def test_a_hub_shares_one_key_file(jp_fetch, shared_key, events_app, events_config):
    events_app.path_hash_key_file = shared_key
    assert events_app._load_path_key() == "ab" * 32


def test_a_key_file_that_is_not_a_key_is_refused(tmp_path):
    from jupyter_events_ext.server.path_key import load_or_create_key

    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(ValueError, match="does not hold a hex key"):
        load_or_create_key(str(bad))


async def test_debug_lines_are_not_built_unless_shown(events_app):
    # jupyter_server logs every request to this extension at debug level.
    assert not events_app.log.isEnabledFor(logging.DEBUG)
    assert events_app.log.isEnabledFor(events_app.log_level)
    events_app.log_level = logging.DEBUG
    assert events_app.log.isEnabledFor(logging.DEBUG)


async def test_an_operators_logging_config_keeps_every_level(jp_serverapp):
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_events_ext"]
    app.logging_config = {
        "handlers": {"debug": {"class": "logging.NullHandler", "level": "DEBUG"}},
        "loggers": {"EventsExtensionApp": {"handlers": ["console", "debug"]}},
    }
    assert app.log.isEnabledFor(logging.DEBUG)
