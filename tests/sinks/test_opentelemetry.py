"""The README's recipe: events into OpenTelemetry through OpenTelemetry's own logging handler."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from sink_schemas import OTHER_SCHEMA_ID, SCHEMA_ID


@pytest.fixture
def exporter():
    exporter = InMemoryLogRecordExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
def provider(exporter):
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider
    provider.shutdown()


def exported_events(exporter) -> list[dict]:
    return [json.loads(log.log_record.body) for log in exporter.get_finished_logs()]


def test_events_reach_opentelemetry_as_log_records(event_logger, provider, exporter):
    # What the SDK itself recommends since it deprecated its own LoggingHandler.
    from opentelemetry.instrumentation.logging.handler import LoggingHandler

    logger = event_logger(LoggingHandler(logger_provider=provider))
    sent = [
        logger.emit(schema_id=SCHEMA_ID, data={"source": "otel", "n": 1}),
        logger.emit(schema_id=OTHER_SCHEMA_ID, data={"source": "otel", "n": 2}),
    ]

    assert exported_events(exporter) == sent
    records = [log.log_record for log in exporter.get_finished_logs()]
    assert [record.severity_text for record in records] == ["INFO", "INFO"]


def test_the_sdk_logging_handler_works_too(event_logger, provider, exporter):
    from opentelemetry.sdk import _logs

    # Deprecated (opentelemetry-sdk 1.45 warns) in favour of the one above.
    with pytest.warns(DeprecationWarning, match="LoggingHandler"):
        handler = _logs.LoggingHandler(logger_provider=provider)
    logger = event_logger(handler)
    sent = logger.emit(schema_id=SCHEMA_ID, data={"source": "sdk", "n": 3})

    assert exported_events(exporter) == [sent]
