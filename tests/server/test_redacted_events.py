"""Redaction in a running server: every sink and the live stream get the redacted event,
and a malformed policy keeps the extension from loading, saying why."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from posted_events import COMMAND, command
from stream_client import open_stream, receive

SECRET = "per-deployment-secret"
POLICY = [
    {"path": "args.*.path", "action": "hash"},
    {"key": "(?i)token", "action": "drop"},
]


def digest(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("events_config", [{"redactions": POLICY, "redaction_secret": SECRET}])
async def test_the_sink_and_the_live_stream_get_the_redacted_event(
    jp_ws_fetch, post, read_sink, events_config
):
    ws = await open_stream(jp_ws_fetch)
    try:
        posted = command(
            "docmanager:open",
            id="r1",
            data={
                "command_id": "docmanager:open",
                "args": {"file": {"path": "/home/ada/thesis.ipynb"}, "token": "abc"},
            },
        )
        response = await post(posted)
        assert response.code == 204
        (message,) = await receive(ws, 1)
    finally:
        ws.close()
    expected = {
        "command_id": "docmanager:open",
        "args": {"file": {"path": digest("/home/ada/thesis.ipynb")}},
    }
    (recorded,) = read_sink(COMMAND)
    for event in (recorded, message["event"]):
        assert {k: v for k, v in event.items() if not k.startswith("__")} == expected
        assert event["__id__"] == "r1"  # the envelope is not redacted


@pytest.mark.parametrize("events_config", [{"redactions": POLICY, "redaction_secret": SECRET}])
async def test_a_lone_surrogate_is_hashed_too(post, read_sink, events_config):
    # JSON may escape half a surrogate pair; it must not stop the event (nor its batch).
    path = "\ud800.ipynb"
    posted = command(data={"command_id": "a", "args": {"file": {"path": path}}})
    body = json.dumps({"events": [posted, command("b")]})  # "\\ud800" in the JSON
    assert "\\ud800" in body
    response = await post(body)
    assert json.loads(response.body) == {"accepted": 2, "duplicates": 0, "rejected": []}
    first, second = read_sink(COMMAND)
    expected = hmac.new(
        SECRET.encode(), path.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()
    assert first["args"] == {"file": {"path": expected}}
    assert second["command_id"] == "b"


@pytest.mark.parametrize(
    "events_config", [{"redactions": [{"path": "args.*.path", "action": "hash"}]}]
)
async def test_a_malformed_policy_keeps_the_extension_from_loading(capfd, jp_fetch, events_config):
    # Not loaded, so nothing is recorded unredacted: its routes are jupyter_server's 404.
    response = await jp_fetch("jupyter-events-ext", "info", raise_error=False)
    assert response.code == 404
    # The server loads its extensions while the test is set up, logging to stderr.
    log = capfd.readouterr().err
    assert "extension failed loading" in log
    assert "redaction rule 0 hashes, which needs a secret" in log
