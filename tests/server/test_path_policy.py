"""One path policy: the operator's path_mode decides how jupyter_server's forwarded events
record paths, and GET info gives it to the browser."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
from posted_events import CONTENTS, DOCUMENT
from stream_client import open_stream

from jupyter_events_ext.server.path_policy import PathPolicy

NOTEBOOK = "Thesis draft (Ada Lovelace).ipynb"
RENAMED = "final/Thesis FINAL ada.ipynb"
# Every contents event: the "get"s that JupyterLab's every open and refresh makes, too.
EVERYTHING = {"forward_exclude": []}


def notebook_body() -> str:
    content = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps({"type": "notebook", "format": "json", "content": content})


async def save_rename_and_copy(jp_fetch) -> None:
    """What a person does with a notebook: save it, open it, rename it, copy it."""
    quoted = NOTEBOOK  # jp_fetch quotes each part of the URL itself
    await jp_fetch("api", "contents", "final", method="PUT", body=json.dumps({"type": "directory"}))
    await jp_fetch("api", "contents", quoted, method="PUT", body=notebook_body())
    await jp_fetch("api", "contents", quoted, method="GET")
    await jp_fetch("api", "contents", quoted, method="PATCH", body=json.dumps({"path": RENAMED}))
    await jp_fetch(
        "api", "contents", "final", method="POST", body=json.dumps({"copy_from": RENAMED})
    )


def names_it(text: str) -> bool:
    # Words with letters no hex digest holds, so that a hash never matches by chance.
    return any(part in text for part in ("Thesis", "Lovelace", "FINAL", "final"))


@pytest.mark.parametrize("events_config", [{"path_mode": "omitted", **EVERYTHING}])
async def test_omitted_no_recorded_event_names_the_notebook(
    jp_fetch, jp_ws_fetch, read_sink, sink_path, events_config
):
    ws = await open_stream(jp_ws_fetch)
    await save_rename_and_copy(jp_fetch)
    actions = [event["action"] for event in read_sink(CONTENTS)]
    assert {"save", "get", "rename", "copy"} <= set(actions)  # forwarded, every one
    assert not names_it(sink_path.read_text())
    for event in read_sink(CONTENTS):
        assert event["path"] == ""  # the schema requires it: there, and empty
        assert event.get("source_path", "") == ""
    # The live stream, the Event Viewer's source, shows the same.
    streamed = [await ws.read_message() for _ in actions]
    assert not names_it("".join(streamed))
    ws.close()


@pytest.mark.parametrize("events_config", [{"path_mode": "hashed", **EVERYTHING}])
async def test_hashed_paths_are_the_browsers_hmac_with_the_deployment_key(
    jp_fetch, read_sink, sink_path, events_config
):
    await save_rename_and_copy(jp_fetch)
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    key = bytes.fromhex(info["path_hash_key"])

    def hashed(path: str) -> str:  # as src/capture/paths.ts: HMAC-SHA256, hex
        return hmac.new(key, path.encode("utf-8"), hashlib.sha256).hexdigest()

    (rename,) = [event for event in read_sink(CONTENTS) if event["action"] == "rename"]
    assert (rename["path"], rename["source_path"]) == (hashed(RENAMED), hashed(NOTEBOOK))
    assert not names_it(sink_path.read_text())


@pytest.mark.parametrize("events_config", [{"path_mode": "as-is", **EVERYTHING}])
async def test_as_is_records_paths_as_they_are(jp_fetch, read_sink, events_config):
    await save_rename_and_copy(jp_fetch)
    (rename,) = [event for event in read_sink(CONTENTS) if event["action"] == "rename"]
    assert (rename["path"], rename["source_path"]) == (RENAMED, NOTEBOOK)


async def test_hashed_is_the_default(jp_fetch, read_sink, events_app):
    await save_rename_and_copy(jp_fetch)
    assert events_app.path_mode == "hashed"
    (rename,) = [event for event in read_sink(CONTENTS) if event["action"] == "rename"]
    assert len(rename["path"]) == 64
    assert rename["path"] != RENAMED


@pytest.mark.parametrize(
    "events_config",
    [{"path_mode": "as-is"}, {"path_mode": "hashed"}, {"path_mode": "omitted"}],
    ids=["as-is", "hashed", "omitted"],
)
async def test_get_info_says_the_path_mode(jp_fetch, events_config):
    info = json.loads((await jp_fetch("jupyter-events-ext", "info")).body)
    assert info["path_mode"] == events_config["path_mode"]


def test_every_path_field_at_any_depth_is_treated():
    policy = PathPolicy("omitted", None)
    data = {
        "action": "rename",
        "path": "a.ipynb",
        "source_path": "b.ipynb",
        "paths": ["c.ipynb", "d.ipynb"],
        "notebookPath": "e.ipynb",
        "args": {"oldPath": "f.ipynb", "count": 2, "nested": [{"newPath": "g.ipynb"}]},
        "pathway": "kept: not a path field",
    }
    assert policy.treat(data) == {
        "action": "rename",
        "path": "",
        "source_path": "",
        "paths": ["", ""],
        "notebookPath": "",
        "args": {"oldPath": "", "count": 2, "nested": [{"newPath": ""}]},
        "pathway": "kept: not a path field",
    }
    assert data["path"] == "a.ipynb"  # the caller's data is never changed


def test_hashed_without_a_key_is_never_weaker_than_hashed():
    assert PathPolicy("hashed", None).treat({"path": "a.ipynb"}) == {"path": ""}


@pytest.fixture
def extra_config(sink_path):
    """jupyter_server's own logger writing this extension's file too (c.EventLogger)."""
    sink_path.parent.mkdir(parents=True, exist_ok=True)
    return {"EventLogger": {"handlers": [logging.FileHandler(sink_path)]}}


@pytest.mark.parametrize("events_config", [{"path_mode": "omitted"}])
async def test_a_file_shared_with_jupyter_servers_logger_names_nothing_either(
    jp_fetch, read_sink, sink_path, extra_config, events_config
):
    # The contents "get"s are not forwarded (forward_exclude's default), but the sink
    # lent by jupyter_server's logger still gets them: in this extension's file.
    await save_rename_and_copy(jp_fetch)
    assert "get" in [event["action"] for event in read_sink(CONTENTS)]
    assert not names_it(sink_path.read_text())


def document_saved(path_mode: str, n: int) -> dict:
    data = {"action": "saved", "path_mode": path_mode}
    if path_mode != "omitted":
        data["path"] = NOTEBOOK if path_mode == "as-is" else "ab" * 32
    return {"schema_id": DOCUMENT, "version": 1, "data": data, "id": f"doc-{path_mode}-{n}"}


@pytest.mark.parametrize(
    ("events_config", "weaker"),
    [({"path_mode": "hashed"}, ["as-is"]), ({"path_mode": "omitted"}, ["as-is", "hashed"])],
    ids=["hashed", "omitted"],
)
async def test_a_client_event_recorded_less_protected_than_the_policy_is_refused(
    post, read_sink, events_config, weaker
):
    """A page that predates the policy, or a client that ignores it, cannot record a
    path as the operator said it may not be; the events around it are recorded."""
    modes = ["as-is", "hashed", "omitted"]
    batch = [document_saved(mode, n) for n, mode in enumerate(modes)]
    response = await post({"events": batch})
    assert response.code == 200
    reply = json.loads(response.body)
    refused = {r["index"]: r["message"] for r in reply["rejected"]}
    assert sorted(refused) == [modes.index(mode) for mode in weaker]
    floor = events_config["path_mode"]
    for index in refused:
        assert refused[index] == (
            f"'path_mode' {modes[index]!r} is less protected than this server's path_mode "
            f"{floor!r}: paths may be recorded {floor!r} or more protected"
        )
    recorded = read_sink(DOCUMENT)
    assert [e["path_mode"] for e in recorded] == [m for m in modes if m not in weaker]
    assert not any(NOTEBOOK in json.dumps(e) for e in recorded)

    alone = await post(document_saved(weaker[0], 9))
    assert alone.code == 400
    assert "less protected than this server's path_mode" in json.loads(alone.body)["message"]
