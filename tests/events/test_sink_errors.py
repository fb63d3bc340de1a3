"""A handler that fails to write an event: invisible to plain emit (as in jupyter_events),
named by SinkError to a caller that asks with durable=True."""

from __future__ import annotations

import io
import json
import logging

import pytest
from schemas_under_test import FILE_SAVED

from jupyter_events_ext.events import EventLogger
from jupyter_events_ext.events.errors import SinkError

SAVED = {"action": "save", "path": "a.ipynb", "user": "ada", "size": 3, "duration_ms": 1}
FILE_SAVED_ID = FILE_SAVED["$id"]


class ClosedStream(io.StringIO):
    """A stream whose writes fail as a full disk's do."""

    name = "full-disk"

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


class Raising(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError("the sink is gone")


@pytest.fixture
def quiet_handle_error(monkeypatch):
    # logging prints a handler's errors to stderr when raiseExceptions is on; the tests
    # look at what reaches the caller, so keep the output readable.
    monkeypatch.setattr(logging, "raiseExceptions", False)


def logger_with(*handlers: logging.Handler) -> EventLogger:
    logger = EventLogger(handlers=list(handlers))
    logger.register_event_schema(FILE_SAVED)
    return logger


def test_a_failure_the_handler_swallows_is_named_to_a_durable_caller(quiet_handle_error):
    good = io.StringIO()
    failing = logging.StreamHandler(ClosedStream())
    logger = logger_with(logging.StreamHandler(good), failing)

    with pytest.raises(SinkError) as raised:
        logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, durable=True)

    assert [handler for handler, _ in raised.value.failures] == [failing]
    error = raised.value.failures[0][1]
    assert isinstance(error, OSError)
    assert error.errno == 28
    assert str(raised.value) == (
        f"{FILE_SAVED_ID} event not written to full-disk "
        "(OSError: [Errno 28] No space left on device)"
    )
    # The other handler has it: a durable caller learns exactly where it is missing.
    assert [json.loads(line)["path"] for line in good.getvalue().splitlines()] == ["a.ipynb"]
    assert raised.value.envelope["__schema__"] == FILE_SAVED_ID


def test_a_handler_that_raises_does_not_keep_the_others_from_the_event():
    good = io.StringIO()
    raising = Raising()
    logger = logger_with(raising, logging.StreamHandler(good))
    with pytest.raises(SinkError, match="RuntimeError: the sink is gone") as raised:
        logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, durable=True)
    assert raised.value.failures[0][0] is raising
    assert len(good.getvalue().splitlines()) == 1


def test_plain_emit_keeps_jupyter_events_contract(quiet_handle_error, capsys):
    good = io.StringIO()
    logger = logger_with(logging.StreamHandler(ClosedStream()), logging.StreamHandler(good))
    assert logger.emit(schema_id=FILE_SAVED_ID, data=SAVED) is not None
    assert len(good.getvalue().splitlines()) == 1


def test_listeners_do_not_hear_an_event_not_written(quiet_handle_error):
    heard = []
    logger = logger_with(logging.StreamHandler(ClosedStream()))
    logger.add_listener(listener=lambda *, logger, schema_id, data: heard.append(data))
    with pytest.raises(SinkError):
        logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, durable=True)
    assert heard == []
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED)
    assert heard == [SAVED]


def test_every_handler_writes_a_durable_event_once():
    first, second = io.StringIO(), io.StringIO()
    logger = logger_with(logging.StreamHandler(first), logging.StreamHandler(second))
    logger.emit(schema_id=FILE_SAVED_ID, data=SAVED, durable=True)
    assert first.getvalue() == second.getvalue()
    assert len(first.getvalue().splitlines()) == 1


def test_a_removed_handler_gets_its_own_error_handling_back(quiet_handle_error):
    failing = logging.StreamHandler(ClosedStream())
    logger = logger_with(failing)
    assert "handleError" in vars(failing)  # reported to the logger while it is in the set
    logger.remove_handler(failing)
    assert "handleError" not in vars(failing)
    assert failing.handleError.__func__ is logging.Handler.handleError

    own = []
    failing.handleError = own.append  # a handler with its own, set on the instance
    logger.register_handler(failing)
    logger.remove_handler(failing)
    assert failing.handleError == own.append
