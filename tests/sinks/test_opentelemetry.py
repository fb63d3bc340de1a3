"""OpenTelemetryEventHandler: events as OpenTelemetry events, through the real SDK, into
memory and over OTLP/HTTP to a receiver of the test's own."""

from __future__ import annotations

import calendar
import json
import logging
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest
from http_receiver import Behaviour, Receiver
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import TracerProvider
from sink_schemas import SCHEMA_ID

from jupyter_events_ext.sinks.otel import OpenTelemetryEventHandler, event_attributes

RICH_SCHEMA_ID = "https://events.jupyter.org/jupyter_events_ext/test/rich/v2"
RICH_SCHEMA = {
    "$id": RICH_SCHEMA_ID,
    "version": "2",
    "title": "An event with nested data",
    "description": "Objects, arrays and nulls, to see how they become attributes.",
    "type": "object",
    "properties": {
        name: {"title": name, "description": name}
        for name in ("path", "cell", "tags", "sizes", "ratios", "mixed", "flags", "none", "big")
    },
}
RICH_DATA = {
    "path": "notebooks/a.ipynb",
    "cell": {"index": 3, "kind": "code", "meta": {"trusted": True}, "empty": {}},
    "tags": ["x", "y"],
    "sizes": [1, 2, 3],
    "ratios": [1, 2.5],
    "mixed": ["a", 1, None, {"b": 2}],
    "flags": [],
    "none": None,
    "big": 2**70,
}
# What the OpenTelemetry attribute rules make of RICH_DATA (see sinks/otel.py).
RICH_ATTRIBUTES = {
    "path": "notebooks/a.ipynb",
    "cell.index": 3,
    "cell.kind": "code",
    "cell.meta.trusted": True,
    "cell.empty": "{}",
    "tags": ("x", "y"),
    "sizes": (1, 2, 3),
    "ratios": (1.0, 2.5),
    "mixed": '["a",1,null,{"b":2}]',
    "flags": (),
    "big": str(2**70),
}


@pytest.fixture
def exporter():
    exporter = InMemoryLogRecordExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
def provider(exporter):
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def otel_logger(event_logger, provider):
    """An EventLogger whose one handler is an OpenTelemetryEventHandler on ``provider``."""
    logger = event_logger(OpenTelemetryEventHandler(provider))
    logger.register_event_schema(RICH_SCHEMA)
    return logger


def envelope_nanoseconds(envelope: dict) -> int:
    """The envelope's __timestamp__ in ns, computed apart from the handler's own code."""
    date, fraction = envelope["__timestamp__"].rstrip("Z").split(".")
    seconds = calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S"))
    return seconds * 10**9 + int(fraction.ljust(9, "0"))


def test_each_event_becomes_an_opentelemetry_event(otel_logger, exporter):
    sent = otel_logger.emit(
        schema_id=RICH_SCHEMA_ID, data=RICH_DATA, metadata={"__id__": "client-1", "__user__": "u"}
    )

    (exported,) = exporter.get_finished_logs()
    record = exported.log_record
    assert record.event_name == RICH_SCHEMA_ID
    assert dict(record.attributes) == {
        **RICH_ATTRIBUTES,
        "jupyter.schema.version": "2",
        "jupyter.event.id": "client-1",
        "jupyter.user": "u",
    }
    assert record.timestamp == envelope_nanoseconds(sent)
    assert (record.severity_number, record.severity_text) == (SeverityNumber.INFO, "INFO")
    assert record.body is None
    assert exported.instrumentation_scope.name == "jupyter_events_ext"


def test_events_without_a_client_id_have_no_id_attribute(otel_logger, exporter):
    otel_logger.emit(schema_id=SCHEMA_ID, data={"source": "otel", "n": 1})

    (exported,) = exporter.get_finished_logs()
    assert dict(exported.log_record.attributes) == {
        "source": "otel",
        "n": 1,
        "jupyter.schema.version": "1",
    }
    assert exported.log_record.event_name == SCHEMA_ID


def test_event_data_cannot_overwrite_the_metadata_attributes():
    envelope = {"__schema__": "s", "__schema_version__": "1", "jupyter": {"schema": {"version": 9}}}
    assert event_attributes(envelope) == {"jupyter.schema.version": "1"}


def test_the_active_trace_context_goes_with_the_event(otel_logger, exporter):
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        otel_logger.emit(schema_id=SCHEMA_ID, data={"source": "in a span", "n": 1})
    otel_logger.emit(schema_id=SCHEMA_ID, data={"source": "outside", "n": 2})

    inside, outside = (exported.log_record for exported in exporter.get_finished_logs())
    context = span.get_span_context()
    assert (inside.trace_id, inside.span_id) == (context.trace_id, context.span_id)
    assert inside.trace_id != 0
    assert (outside.trace_id, outside.span_id) == (0, 0)


def test_records_that_are_not_events_pass_as_plain_log_records(provider, exporter):
    log = logging.Logger("plain")
    log.addHandler(OpenTelemetryEventHandler(provider))
    log.warning("disk %s", "full")

    (exported,) = exporter.get_finished_logs()
    assert exported.log_record.body == "disk full"
    assert exported.log_record.event_name is None
    assert exported.log_record.severity_text == "WARNING"


def test_jupyter_events_records_holding_a_dict_are_events_too(provider, exporter):
    # What jupyter_events' own EventLogger hands its handlers.
    log = logging.Logger("jupyter_events")
    log.addHandler(OpenTelemetryEventHandler(provider))
    log.info({"__schema__": SCHEMA_ID, "__schema_version__": 1, "n": 5})

    (exported,) = exporter.get_finished_logs()
    assert exported.log_record.event_name == SCHEMA_ID
    assert dict(exported.log_record.attributes) == {"n": 5, "jupyter.schema.version": 1}


GLOBAL_PROVIDER = textwrap.dedent(
    """
    from opentelemetry import _logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )
    from jupyter_events_ext.events.logger import EventLogger
    from jupyter_events_ext.sinks.otel import OpenTelemetryEventHandler
    from sink_schemas import SCHEMAS, SCHEMA_ID

    handler = OpenTelemetryEventHandler()  # made before the provider is set, as at start-up
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    _logs.set_logger_provider(provider)
    logger = EventLogger(handlers=[handler])
    logger.register_event_schema(SCHEMAS[0])
    logger.emit(schema_id=SCHEMA_ID, data={"source": "global", "n": 1})
    print([exported.log_record.event_name for exported in exporter.get_finished_logs()])
    """
)


def test_without_a_provider_the_global_one_is_used():
    # In a process of its own: the global provider can be set once per process.
    result = subprocess.run(
        [sys.executable, "-c", GLOBAL_PROVIDER],
        cwd=str(pathlib.Path(__file__).parent),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([SCHEMA_ID])


def test_without_opentelemetry_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as for a missing package
    with pytest.raises(ImportError, match=r"pip install 'jupyter_events_ext\[otel\]'"):
        OpenTelemetryEventHandler()


def decode_otlp(bodies: list[bytes]) -> list:
    """The log records of OTLP/HTTP protobuf request bodies, in order."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    records = []
    for body in bodies:
        request = ExportLogsServiceRequest.FromString(body)
        for resource_logs in request.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                assert scope_logs.scope.name == "jupyter_events_ext"
                records.extend(scope_logs.log_records)
    return records


def any_value(value) -> object:
    """An OTLP AnyValue as Python."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(any_value(item) for item in value.array_value.values)
    return getattr(value, kind)


@pytest.fixture
def otlp_receiver():
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    behaviour = Behaviour(
        answer=ExportLogsServiceResponse().SerializeToString(), answer_type="application/x-protobuf"
    )
    receiver = Receiver(behaviour=behaviour).start()
    yield receiver
    receiver.stop()


def test_events_reach_a_collector_over_otlp_http(event_logger, otlp_receiver):
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{otlp_receiver.url}/v1/logs"))
    )
    handler = OpenTelemetryEventHandler(provider)
    logger = event_logger(handler)
    logger.register_event_schema(RICH_SCHEMA)
    tracer = TracerProvider().get_tracer("test")
    sent = [
        logger.emit(
            schema_id=SCHEMA_ID, data={"source": "otlp", "n": n}, metadata={"__id__": f"c{n}"}
        )
        for n in range(20)
    ]
    with tracer.start_as_current_span("request") as span:
        sent.append(logger.emit(schema_id=RICH_SCHEMA_ID, data=RICH_DATA))
    handler.flush()
    provider.shutdown()

    assert {request.path for request in otlp_receiver.kept} == {"/v1/logs"}
    assert {request.headers["content-type"] for request in otlp_receiver.kept} == {
        "application/x-protobuf"
    }
    records = decode_otlp(otlp_receiver.bodies())
    assert [record.event_name for record in records] == [SCHEMA_ID] * 20 + [RICH_SCHEMA_ID]
    assert [record.time_unix_nano for record in records] == [envelope_nanoseconds(e) for e in sent]
    assert {record.severity_number for record in records} == {SeverityNumber.INFO.value}
    attributes = [{a.key: any_value(a.value) for a in record.attributes} for record in records]
    assert attributes[:20] == [
        {"source": "otlp", "n": n, "jupyter.schema.version": "1", "jupyter.event.id": f"c{n}"}
        for n in range(20)
    ]
    assert attributes[20] == {**RICH_ATTRIBUTES, "jupyter.schema.version": "2"}
    rich = records[20]
    assert rich.trace_id == span.get_span_context().trace_id.to_bytes(16, "big")
    assert rich.span_id == span.get_span_context().span_id.to_bytes(8, "big")
    assert records[0].trace_id == b""
    assert json.loads(attributes[20]["mixed"]) == RICH_DATA["mixed"]


def test_a_batch_the_collector_refuses_for_good_does_not_hold_back_the_rest(
    event_logger, otlp_receiver
):
    """OpenTelemetry's own exporter decides: a 400 is not retried (the SDK drops that
    batch and logs it), so the events behind it go on, as with the dead-letter file of
    the other network sinks."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{otlp_receiver.url}/v1/logs"))
    )
    handler = OpenTelemetryEventHandler(provider)
    logger = event_logger(handler)
    answer = otlp_receiver.behaviour
    otlp_receiver.behaviour = Behaviour(refuse_with=400)
    for n in range(3):
        logger.emit(schema_id=SCHEMA_ID, data={"source": "refused", "n": n})
    handler.flush()
    otlp_receiver.behaviour = answer
    for n in range(3):
        logger.emit(schema_id=SCHEMA_ID, data={"source": "after", "n": n})
    handler.flush()
    provider.shutdown()
    assert len(otlp_receiver.refused) == 1  # sent once, not retried
    records = decode_otlp(otlp_receiver.bodies())
    attributes = [{a.key: any_value(a.value) for a in record.attributes} for record in records]
    assert [(a["source"], a["n"]) for a in attributes] == [("after", n) for n in range(3)]
