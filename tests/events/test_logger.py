from __future__ import annotations

import asyncio
import datetime
import io
import json
import logging
import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import ValidationError
from schemas_under_test import ANYTHING, FILE_SAVED, FILE_SAVED_V2, README_0_1_0_SCHEMA, RICH
from traitlets import TraitError
from traitlets.config.loader import PyFileConfigLoader

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.errors import (
    CoreMetadataError,
    EventSchemaFileAbsent,
    EventSchemaLoadingError,
    EventSerializationError,
    ListenerError,
    ModifierError,
    SchemaNotFound,
    SchemaNotRegistered,
    SchemaRegistryException,
)

SAVED = {"action": "save", "path": "a.ipynb", "user": "ada", "size": 3, "duration_ms": 1}
FILE_SAVED_ID = FILE_SAVED["$id"]


@pytest.fixture
def jp_event_schemas():
    return [FILE_SAVED]


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# -- the envelope -------------------------------------------------------------------------


def test_emit_writes_one_envelope_per_line(jp_event_logger, jp_read_emitted_events):
    returned = jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    (written,) = jp_read_emitted_events()
    assert written == returned
    assert list(written)[:4] == [
        "__timestamp__",
        "__schema__",
        "__schema_version__",
        "__metadata_version__",
    ]
    assert written["__schema__"] == FILE_SAVED_ID
    assert written["__schema_version__"] == "1"
    assert written["__metadata_version__"] == 1
    assert {k: v for k, v in written.items() if not k.startswith("__")} == SAVED


def test_timestamp_is_rfc3339_utc_with_z(jp_event_logger):
    envelope = jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    stamp = envelope["__timestamp__"]
    assert stamp.endswith("Z")
    assert "+" not in stamp
    parsed = datetime.datetime.fromisoformat(stamp[:-1]).replace(tzinfo=datetime.timezone.utc)
    assert abs(parsed - datetime.datetime.now(datetime.timezone.utc)).total_seconds() < 60


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (datetime.datetime(2024, 5, 6, 7, 8, 9), "2024-05-06T07:08:09.000000Z"),
        (
            datetime.datetime(
                2024, 5, 6, 9, 8, 9, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            "2024-05-06T07:08:09.000005Z",
        ),
    ],
)
def test_timestamp_override(jp_event_logger, override, expected):
    envelope = jp_event_logger.emit(
        schema_id=FILE_SAVED_ID, data=SAVED, timestamp_override=override
    )
    assert envelope["__timestamp__"] == expected


def test_timestamp_override_must_be_a_datetime(jp_event_logger, jp_read_emitted_events):
    with pytest.raises(CoreMetadataError, match="datetime"):
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, timestamp_override="2024-01-01")
    assert jp_read_emitted_events() is None


def test_data_never_overwrites_the_envelope(jp_event_logger, jp_read_emitted_events):
    forged = {**SAVED, "__schema__": "forged", "__metadata_version__": 99, "__timestamp__": "x"}
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=forged)
    (written,) = jp_read_emitted_events()
    assert written["__schema__"] == FILE_SAVED_ID
    assert written["__metadata_version__"] == 1
    assert written["__timestamp__"].endswith("Z")


def test_metadata_adds_envelope_fields_that_data_cannot_overwrite(
    jp_event_logger, jp_read_emitted_events
):
    forged = {**SAVED, "__user__": "mallory"}
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=forged, metadata={"__user__": "ada"})
    jp_event_logger.record_event(FILE_SAVED_ID, 1, SAVED, metadata={"__user__": "ada"})
    for written in jp_read_emitted_events():
        assert list(written)[4] == "__user__"
        assert written["__user__"] == "ada"


@pytest.mark.parametrize("name", ["user", "__schema__", "__timestamp__", 3])
def test_metadata_names_must_be_new_dunder_fields(jp_event_logger, jp_read_emitted_events, name):
    with pytest.raises(ValueError, match="must be named '__<name>'"):
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, metadata={name: "x"})
    assert not jp_read_emitted_events()  # nothing was written


def test_a_message_property_is_written_like_any_other(jp_event_logger, jp_read_emitted_events):
    jp_event_logger.register_event_schema(RICH)
    data = {
        "when": "2024-01-01T00:00:00Z",
        "where": "https://x.org",
        "tags": ["a"],
        "message": "hi",
    }
    jp_event_logger.emit(schema_id=RICH["$id"], data=data)
    (written,) = jp_read_emitted_events()
    assert written["message"] == "hi"


def test_whatever_formatter_a_handler_had_it_writes_json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    fancy = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    handler.setFormatter(fancy)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(FILE_SAVED)
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert json.loads(stream.getvalue())["user"] == "ada"
    # Removing the handler gives it its formatter back.
    logger.remove_handler(handler)
    assert handler.formatter is fancy
    assert logger.handlers == []


def test_handler_levels_are_respected(jp_event_logger, jp_event_sink):
    quiet_stream = io.StringIO()
    quiet = logging.StreamHandler(quiet_stream)
    quiet.setLevel(logging.WARNING)
    jp_event_logger.register_handler(quiet)
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert quiet_stream.getvalue() == ""
    assert jp_event_sink.getvalue() != ""


def test_nan_cannot_be_written(jp_event_logger, jp_read_emitted_events):
    jp_event_logger.register_event_schema(RICH)
    data = {"when": "2024-01-01T00:00:00Z", "where": "https://x.org", "tags": ["a"]}
    with pytest.raises(EventSerializationError, match="JSON"):
        jp_event_logger.emit(schema_id=RICH["$id"], data={**data, "ratio": float("nan")})
    assert jp_read_emitted_events() is None


def test_a_value_that_refers_to_itself_cannot_be_written(jp_event_logger, jp_read_emitted_events):
    # Only JSON-typed properties are validated; an untyped one may hold anything.
    jp_event_logger.register_event_schema(ANYTHING)
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(EventSerializationError, match="refers to itself"):
        jp_event_logger.emit(schema_id=ANYTHING["$id"], data={"when": loop})
    assert jp_read_emitted_events() is None
    # The encoder keeps no state: the next event is written.
    jp_event_logger.emit(schema_id=ANYTHING["$id"], data={"when": "now"})
    assert jp_read_emitted_events()[0]["when"] == "now"


def test_values_json_cannot_represent_are_written_as_text(jp_event_logger, jp_read_emitted_events):
    jp_event_logger.register_event_schema(ANYTHING)
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5)
    jp_event_logger.emit(schema_id=ANYTHING["$id"], data={"when": moment})
    assert jp_read_emitted_events()[0]["when"] == "2024-01-02T03:04:05"


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**SAVED, "size": "3"}, "'3' is not of type 'integer'"),
        ({k: v for k, v in SAVED.items() if k != "user"}, "'user' is a required property"),
        ({**SAVED, "size": True}, "True is not of type 'integer'"),
    ],
)
def test_invalid_events_raise_jsonschema_errors(
    jp_event_logger, jp_read_emitted_events, data, message
):
    with pytest.raises(ValidationError) as info:
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=data)
    assert info.value.message == message
    assert jp_read_emitted_events() is None


def test_formats_are_validated(jp_event_logger):
    jp_event_logger.register_event_schema(RICH)
    good = {"when": "2024-01-01T00:00:00Z", "where": "https://x.org", "tags": ["a"]}
    jp_event_logger.emit(schema_id=RICH["$id"], data=good)
    with pytest.raises(ValidationError, match="is not a 'date-time'"):
        jp_event_logger.emit(schema_id=RICH["$id"], data={**good, "when": "yesterday"})
    with pytest.raises(ValidationError, match="is not a 'uri'"):
        jp_event_logger.emit(schema_id=RICH["$id"], data={**good, "where": "not a uri"})


# -- routing ------------------------------------------------------------------------------


def test_without_handlers_events_are_discarded():
    logger = EventLogger()
    logger.register_event_schema(FILE_SAVED)
    assert logger.handlers is None
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is None
    # Nothing is validated either, as in jupyter_events.
    assert logger.emit(schema_id=FILE_SAVED_ID, data={}) is None


def test_unregistered_schema_warns_and_drops(jp_event_logger, jp_read_emitted_events):
    with pytest.warns(SchemaNotRegistered, match="has not been registered"):
        assert jp_event_logger.emit(schema_id="https://x.org/nope", data={}) is None
    assert jp_read_emitted_events() is None


def test_allowed_schemas_filters_silently(jp_event_handler, jp_read_emitted_events):
    logger = EventLogger(handlers=[jp_event_handler], allowed_schemas=["https://x.org/other"])
    logger.register_event_schema(FILE_SAVED)
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is None
    assert logger.record_event(FILE_SAVED_ID, 1, SAVED) is None
    assert jp_read_emitted_events() is None
    logger.allowed_schemas = [FILE_SAVED_ID]
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is not None
    logger.allowed_schemas = None
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is not None
    assert len(jp_read_emitted_events()) == 2


def test_handlers_trait_rejects_non_handlers():
    with pytest.raises(TraitError, match="must be Python `logging` handler instances"):
        EventLogger(handlers=["not a handler"])
    with pytest.raises(TraitError):
        EventLogger(handlers="not a list")


def test_handlers_may_be_a_callable_returning_the_list(jp_event_sink):
    handler = logging.StreamHandler(jp_event_sink)
    logger = EventLogger(handlers=lambda: [handler])
    logger.register_event_schema(FILE_SAVED)
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert len(lines_of(jp_event_sink)) == 1


def test_assigning_handlers_later_routes_to_them(jp_event_sink):
    logger = EventLogger()
    logger.register_event_schema(FILE_SAVED)
    logger.handlers = [logging.StreamHandler(jp_event_sink)]
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert len(lines_of(jp_event_sink)) == 1


def test_register_handler_twice_writes_once(
    jp_event_logger, jp_event_handler, jp_read_emitted_events
):
    jp_event_logger.register_handler(jp_event_handler)
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert len(jp_read_emitted_events()) == 1


# -- versions -----------------------------------------------------------------------------


def test_versions_side_by_side(jp_event_logger, jp_read_emitted_events):
    jp_event_logger.register_event_schema(FILE_SAVED_V2)
    # emit: the newest version.
    envelope = jp_event_logger.emit(
        schema_id=FILE_SAVED_ID, data={"action": "autosave", "path": "p"}
    )
    assert envelope["__schema_version__"] == "2"
    with pytest.raises(ValidationError):
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)  # v2 has no "user"
    # record_event: the version it names, as a string or an integer.
    assert jp_event_logger.record_event(FILE_SAVED_ID, 1, SAVED)["__schema_version__"] == "1"
    assert jp_event_logger.record_event(FILE_SAVED_ID, "2", {"action": "save", "path": "p"})
    assert [e["__schema_version__"] for e in jp_read_emitted_events()] == ["2", "1", "2"]


def test_newest_is_by_version_number_not_registration_order(jp_event_logger):
    for version in ["10", "9", "9.1"]:
        jp_event_logger.register_event_schema({**FILE_SAVED, "version": version})
    assert jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)["__schema_version__"] == "10"
    assert jp_event_logger.schemas.versions(FILE_SAVED_ID) == ["1", "9", "9.1", "10"]


def test_same_id_and_version_twice_is_refused(jp_event_logger):
    with pytest.raises(SchemaRegistryException, match="already registered"):
        jp_event_logger.register_event_schema(FILE_SAVED)


def test_record_event_unknown_version_or_schema(jp_event_logger):
    with pytest.raises(SchemaNotFound, match="no version 7"):
        jp_event_logger.record_event(FILE_SAVED_ID, 7, SAVED)
    with pytest.raises(KeyError, match="was not found"):
        jp_event_logger.record_event("https://x.org/nope", 1, {})


def test_schemas_registered_on_the_registry_directly_are_seen(jp_event_logger):
    jp_event_logger.schemas.register(FILE_SAVED_V2)
    assert jp_event_logger.emit(schema_id=FILE_SAVED_ID, data={"action": "save", "path": "p"})
    jp_event_logger.schemas.remove(FILE_SAVED_ID, "2")
    assert jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)["__schema_version__"] == "1"


# -- registering --------------------------------------------------------------------------


def test_register_schema_file_path_and_open_file(tmp_path, jp_event_logger):
    path = tmp_path / "schema.yaml"
    path.write_text(json.dumps({**README_0_1_0_SCHEMA, "$id": "relative/id"}))
    assert jp_event_logger.register_schema_file(str(path)).id == "relative/id"
    with open(path) as file:
        path.write_text(json.dumps({**README_0_1_0_SCHEMA, "$id": "other"}))
        assert jp_event_logger.register_schema_file(file).id == "other"


def test_register_schema_file_errors(tmp_path, jp_event_logger):
    with pytest.raises(EventSchemaFileAbsent):
        jp_event_logger.register_schema_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.yaml"
    bad.write_text("{not: [valid")
    with pytest.raises(EventSchemaLoadingError, match="Could not parse"):
        jp_event_logger.register_schema_file(bad)


def test_register_event_schema_forms(tmp_path, jp_event_logger):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({**FILE_SAVED, "version": "3"}))
    assert jp_event_logger.register_event_schema(path).version == "3"
    assert jp_event_logger.register_event_schema(json.dumps({**FILE_SAVED, "version": "4"}))
    from jupyter_events_ext.events.schema import EventSchema

    assert jp_event_logger.register_event_schema(EventSchema({**FILE_SAVED, "version": "5"}))
    assert jp_event_logger.schemas.versions(FILE_SAVED_ID) == ["1", "3", "4", "5"]


# -- configuration ------------------------------------------------------------------------


def test_configured_from_a_config_file(tmp_path):
    log = tmp_path / "events.log"
    (tmp_path / "config.py").write_text(
        "import logging\n"
        f"c.EventLogger.handlers = [logging.FileHandler({str(log)!r})]\n"
        f"c.EventLogger.allowed_schemas = [{FILE_SAVED_ID!r}]\n"
    )
    config = PyFileConfigLoader("config.py", path=str(tmp_path)).load_config()
    logger = EventLogger(config=config)
    assert logger.allowed_schemas == [FILE_SAVED_ID]
    logger.register_event_schema(FILE_SAVED)
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    logger.handlers[0].close()
    assert json.loads(log.read_text())["path"] == "a.ipynb"


# -- modifiers ----------------------------------------------------------------------------


def redact_user(*, schema_id, data):
    data["user"] = "<redacted>"
    return data


def test_modifier_for_one_schema(jp_event_logger, jp_read_emitted_events):
    data = dict(SAVED)
    jp_event_logger.add_modifier(schema_id=FILE_SAVED_ID, modifier=redact_user)
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=data)
    assert jp_read_emitted_events()[0]["user"] == "<redacted>"
    assert data == SAVED  # the caller's dict is untouched
    jp_event_logger.remove_modifier(schema_id=FILE_SAVED_ID, modifier=redact_user)
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=data)
    assert jp_read_emitted_events()[0]["user"] == "ada"


def test_modifier_without_schema_id_applies_to_later_schemas(
    jp_event_logger, jp_read_emitted_events
):
    jp_event_logger.add_modifier(modifier=redact_user)
    jp_event_logger.register_event_schema({**FILE_SAVED, "$id": "https://x.org/later/v1"})
    jp_event_logger.emit(schema_id="https://x.org/later/v1", data=SAVED)
    jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert [e["user"] for e in jp_read_emitted_events()] == ["<redacted>", "<redacted>"]
    jp_event_logger.remove_modifier(modifier=redact_user)
    jp_event_logger.emit(schema_id="https://x.org/later/v1", data=SAVED)
    assert jp_read_emitted_events()[0]["user"] == "ada"


def test_modifiers_run_in_order_and_output_is_validated(jp_event_logger):
    jp_event_logger.add_modifier(modifier=lambda schema_id, data: {**data, "size": "big"})
    with pytest.raises(ValidationError, match="'big' is not of type 'integer'"):
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)


def test_modifier_errors(jp_event_logger):
    with pytest.raises(TypeError, match="must be a callable"):
        jp_event_logger.add_modifier(modifier="nope")
    with pytest.raises(ModifierError, match="cannot be called"):
        jp_event_logger.add_modifier(modifier=lambda event: event)
    jp_event_logger.add_modifier(modifier=lambda schema_id, data: None)
    with pytest.raises(ModifierError, match="returned NoneType, not a dict"):
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)


def test_removing_an_unknown_modifier_or_listener_is_harmless(jp_event_logger):
    jp_event_logger.remove_modifier(schema_id="https://x.org/nope", modifier=redact_user)
    jp_event_logger.remove_listener(schema_id="https://x.org/nope", listener=redact_user)
    assert jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)


# -- listeners ----------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.calls = []

    async def __call__(self, *, logger, schema_id, data):
        self.calls.append((schema_id, data))


def test_listeners_run_as_tasks_on_the_running_loop(jp_event_logger):
    modified, unmodified = Recorder(), Recorder()

    async def scenario():
        jp_event_logger.add_modifier(modifier=redact_user)
        jp_event_logger.add_listener(schema_id=FILE_SAVED_ID, listener=modified)
        jp_event_logger.add_listener(modified=False, schema_id=FILE_SAVED_ID, listener=unmodified)
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
        await jp_event_logger.gather_listeners()

    asyncio.run(scenario())
    assert modified.calls == [(FILE_SAVED_ID, {**SAVED, "user": "<redacted>"})]
    assert unmodified.calls == [(FILE_SAVED_ID, SAVED)]


def test_listener_without_schema_id_hears_later_schemas(jp_event_logger):
    listener = Recorder()

    async def scenario():
        jp_event_logger.add_listener(listener=listener)
        jp_event_logger.register_event_schema({**FILE_SAVED, "$id": "https://x.org/later/v1"})
        jp_event_logger.emit(schema_id="https://x.org/later/v1", data=SAVED)
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
        await jp_event_logger.gather_listeners()
        jp_event_logger.remove_listener(listener=listener)
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
        await jp_event_logger.gather_listeners()

    asyncio.run(scenario())
    assert [schema_id for schema_id, _ in listener.calls] == [
        "https://x.org/later/v1",
        FILE_SAVED_ID,
    ]


def test_listeners_alone_receive_events_without_handlers():
    listener = Recorder()
    logger = EventLogger()
    logger.register_event_schema(FILE_SAVED)
    logger.add_listener(schema_id=FILE_SAVED_ID, listener=listener)
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is not None
    assert listener.calls == [(FILE_SAVED_ID, SAVED)]


def test_emit_from_a_thread_without_loop_runs_listeners_there(
    jp_event_logger, jp_read_emitted_events
):
    listener, failures = Recorder(), []

    async def failing(*, logger, schema_id, data):
        raise RuntimeError("listener broke")

    jp_event_logger.add_listener(listener=listener)
    jp_event_logger.add_listener(listener=failing)

    def emit():
        try:
            jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
        except Exception as err:
            failures.append(err)

    thread = threading.Thread(target=emit)
    thread.start()
    thread.join()
    assert failures == []
    assert len(jp_read_emitted_events()) == 1
    assert listener.calls == [(FILE_SAVED_ID, SAVED)]


def test_emit_from_a_thread_while_a_loop_runs_elsewhere_uses_that_loop(jp_event_logger):
    listener = Recorder()
    heard_on = []

    async def where(*, logger, schema_id, data):
        heard_on.append(threading.current_thread())

    async def scenario():
        jp_event_logger.add_listener(listener=listener)
        jp_event_logger.add_listener(listener=where)
        await asyncio.to_thread(jp_event_logger.emit, schema_id=FILE_SAVED_ID, data=SAVED)
        await asyncio.sleep(0)
        await jp_event_logger.gather_listeners()

    asyncio.run(scenario())
    assert listener.calls == [(FILE_SAVED_ID, SAVED)]
    assert heard_on == [threading.main_thread()]


def test_listener_failures_are_logged_not_raised(jp_event_logger, caplog):
    async def failing(*, logger, schema_id, data):
        raise RuntimeError("listener broke")

    def sync_failing(*, logger, schema_id, data):
        raise RuntimeError("sync listener broke")

    async def scenario():
        jp_event_logger.add_listener(listener=failing)
        jp_event_logger.add_listener(listener=sync_failing)
        jp_event_logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
        await jp_event_logger.gather_listeners()

    jp_event_logger.log = logging.getLogger("test_listener_failures")
    with caplog.at_level(logging.ERROR, logger="test_listener_failures"):
        asyncio.run(scenario())
    assert "listener broke" in caplog.text
    assert "sync listener broke" in caplog.text


def test_listener_errors(jp_event_logger):
    with pytest.raises(TypeError, match="must be a callable"):
        jp_event_logger.add_listener(listener=None)
    with pytest.raises(ListenerError, match="cannot be called"):
        jp_event_logger.add_listener(listener=lambda schema_id, data: None)


# -- threads ------------------------------------------------------------------------------


def test_eight_threads_into_one_file_handler(tmp_path):
    path = tmp_path / "events.log"
    handler = logging.FileHandler(path)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(FILE_SAVED)
    per_thread = 500
    start = threading.Barrier(8)

    def work(n):
        start.wait()
        for i in range(per_thread):
            logger.emit(schema_id=FILE_SAVED_ID, data={**SAVED, "size": n * per_thread + i})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handler.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 8 * per_thread
    assert sorted(json.loads(line)["size"] for line in lines) == list(range(8 * per_thread))


@given(st.floats(min_value=0, max_value=2**33, allow_nan=False, allow_infinity=False))
def test_format_epoch_agrees_with_datetime(seconds):
    from jupyter_events_ext.events.envelope import format_epoch

    expected = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    assert format_epoch(seconds) == expected.isoformat(timespec="microseconds")[:-6] + "Z"


def test_format_epoch_carries_a_rounded_up_second():
    from jupyter_events_ext.events.envelope import format_epoch

    assert format_epoch(59.9999996) == "1970-01-01T00:01:00.000000Z"
    assert format_epoch(59.9999994) == "1970-01-01T00:00:59.999999Z"


class _RecordKeeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_records_name_the_process_and_thread_that_emitted_even_after_a_fork():
    keeper = _RecordKeeper()
    logger = EventLogger(handlers=[keeper])
    logger.register_event_schema(FILE_SAVED)
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    parent = keeper.records[-1]
    assert (parent.process, parent.processName) == (os.getpid(), "MainProcess")
    assert (parent.thread, parent.threadName) == (threading.get_ident(), "MainThread")
    assert parent.funcName == "emit"
    assert parent.levelname == "INFO"

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports the process its record names, and leaves
        try:
            logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
            os.write(write_end, json.dumps(keeper.records[-1].process).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        reported = json.loads(pipe.read())
    os.waitpid(child, 0)
    assert reported == child
