"""A real JupyterHub, end to end, as an operator deploys it (see docs/operators/jupyterhub.md).

The hub, configurable-http-proxy and every user's server with this extension configured by
the page's block; a browser logged in through the hub running cells, and clients posting
and messaging through the proxy with hub tokens; one Redis stream, archived by a
``tail --group`` consumer and exported to Parquet. Run alone with ``pytest -m hub``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from browser import Browser
from consumer import Consumer, export_parquet, exported_rows
from deployment import STREAM, Hub, Server
from senders import Sender, body_of, command_events, http_url, ws_url

pytestmark = pytest.mark.hub

# What each client sends, through the proxy: (server, transport, batch sizes). Alice's
# client sends until her server has been stopped and started again.
TRAFFIC = [
    ("bob", "post", [100] * 15 + [1] * 30),
    ("carol", "socket", [100] * 15 + [1] * 30),
    ("carol/second", "socket", [100] * 10 + [1] * 15),
    ("carol/second", "post", [100] * 5 + [1] * 15),
]
ALICE_BATCH = 50
# How long, at most, the consumer may take to print what servers acknowledged.
CONSUMER_WAIT = 60.0
# How long, at most, Redis takes no writes while a server is stopped: beyond the
# the page's flush_timeout (5 s) and the spawner's wait after SIGINT (10 s).
REDIS_AWAY_MS = 30_000


@dataclass
class Run:
    """What one run of the whole hub sent, acknowledged and exported."""

    senders: list[Sender]
    restarted: Sender  # alice's client, across her server's restart
    acknowledged_before_stop: int
    browser: dict[str, Any]  # what the page sent and was told (browser_agent.js's record),
    # and its status bar's events item once it had nothing left to send ("drained")
    consumer: Consumer
    missing: set[str]  # acknowledged ids the consumer had not printed after CONSUMER_WAIT
    manifest: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]]  # client id -> its exported rows

    def acknowledged(self) -> dict[str, str]:
        """Every id acknowledged to any client -> the user it was sent as."""
        ids = {i: s.server.user for s in self.senders for i in s.acknowledged}
        ids.update(dict.fromkeys(self.browser["acknowledged"], "alice"))
        return ids


def send_all(sender: Sender, label: str, sizes: list[int]) -> None:
    sent = 0
    for size in sizes:
        sender.send(command_events(label, sent, size))
        sent += size


def send_until(sender: Sender, done: threading.Event) -> None:
    sent = 0
    while not done.is_set():
        sender.send(command_events("alice", sent, ALICE_BATCH))
        sent += ALICE_BATCH
        time.sleep(0.05)


def wait_until(condition: Any, timeout: float, what: str, *, clients: Any = ()) -> None:
    """Wait for ``condition``; a client that failed meanwhile raises its error."""
    deadline = time.monotonic() + timeout
    while not condition():
        for client in clients:
            if client.done():
                client.result()
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def run(hub: Hub, servers: dict[str, Server], tokens: dict[str, str], tmp_path_factory: Any) -> Run:
    directory: Path = tmp_path_factory.mktemp("run")
    consumer = Consumer(hub.redis.url, directory / "archive.jsonl", STREAM)
    browser = Browser(directory / "browser.log")
    try:
        browser.do("login", hub=hub.url, user="alice", password=hub.password)
        browser.do("notebook")
        browser.do("run", cells=10)

        senders = [
            Sender(servers[name], tokens[servers[name].user], transport)
            for name, transport, _ in TRAFFIC
        ]
        alice = Sender(servers["alice"], tokens["alice"], "post")
        done = threading.Event()
        with ThreadPoolExecutor(len(TRAFFIC) + 1) as pool:
            futures = [
                pool.submit(send_all, sender, f"{name}-{transport}", sizes)
                for sender, (name, transport, sizes) in zip(senders, TRAFFIC)
            ]
            futures.append(pool.submit(send_until, alice, done))
            try:
                wait_until(
                    lambda: len(alice.acknowledged) >= 300,
                    60,
                    "alice's first events",
                    clients=futures,
                )
                # The page's next batch is recorded but its answer never arrives...
                browser.do("withhold-answer")
                browser.do("run", cells=3)
                wait_until(
                    lambda: browser.do("report")["record"]["answersWithheld"] == 1,
                    30,
                    "a batch whose answer is withheld",
                )
                # ...and her server stops under it, and under her other client.
                before_stop = len(alice.acknowledged)
                hub.stop_server("alice")
                browser.do("toggle-sidebar", times=4)  # events while her server is away
                hub.start_server("alice")
                # The page keeps them: the server that answers now does not know its login.
                wait_until(
                    lambda: re.search(
                        r" [1-9]\d* waiting · not authorized$", browser.do("status")["status"]
                    ),
                    30,
                    "the page keeping what it cannot send",
                )
                wait_until(
                    lambda: len(alice.acknowledged) >= before_stop + 300,
                    60,
                    "alice's events after the restart",
                    clients=futures,
                )
            finally:
                done.set()
            for future in futures:
                future.result()
        # The page's hub login outlives the server; its server login does not.
        browser.do("reload")
        browser.do("run", cells=5)
        drained = browser.do("drain")
        record = {**browser.do("report")["record"], "drained": drained}
        browser.close()
        everyone = [*senders, alice]
        acknowledged = {i for s in everyone for i in s.acknowledged}
        missing = consumer.wait_for(acknowledged | record["acknowledged"].keys(), CONSUMER_WAIT)
    finally:
        browser.close()
        consumer.stop()
    manifest = export_parquet(consumer.archive, directory / "parquet")
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in exported_rows(directory / "parquet"):
        if row["__id__"] is not None:
            rows[row["__id__"]].append(row)
    return Run(everyone, alice, before_stop, record, consumer, missing, manifest, rows)


def test_every_acknowledged_event_is_exported_exactly_once(run: Run) -> None:
    acknowledged = run.acknowledged()
    per_server = defaultdict(int)
    for sender in run.senders:
        per_server[str(sender.server)] += len(sender.acknowledged)
    per_server["alice (browser)"] = len(run.browser["acknowledged"])
    print(f"acknowledged: {len(acknowledged)} events, per server: {dict(per_server)}")
    print(f"exported: {sum(table['rows'] for table in run.manifest['tables'])} rows")
    assert len(acknowledged) >= 5000
    assert all(count > 0 for count in per_server.values()), per_server

    assert not run.missing, f"{len(run.missing)} acknowledged events never reached the consumer"
    printed_twice = [i for i in acknowledged if run.consumer.printed[i] != 1]
    assert not printed_twice, f"{len(printed_twice)} printed more than once by tail"
    not_once = {i: len(run.rows.get(i, [])) for i in acknowledged if len(run.rows.get(i, [])) != 1}
    assert not not_once, f"{len(not_once)} acknowledged events not exported exactly once"


def test_each_event_is_stamped_with_its_user(run: Run) -> None:
    wrong = {
        event_id: (user, [row["__user__"] for row in run.rows[event_id]])
        for event_id, user in run.acknowledged().items()
        if [row["__user__"] for row in run.rows[event_id]] != [user]
    }
    assert not wrong, f"{len(wrong)} events stamped wrongly, e.g. {list(wrong.items())[:3]}"
    # Every client event of the run carries a user; server events (no id) carry none.
    assert all(row["__user__"] for rows in run.rows.values() for row in rows)


def test_both_servers_of_one_user_record_everything(run: Run) -> None:
    carol = [s for s in run.senders if s.server.user == "carol"]
    assert {str(s.server) for s in carol} == {"carol", "carol/second"}
    for sender in carol:
        assert sender.acknowledged
        lost = [i for i in sender.acknowledged if len(run.rows.get(i, [])) != 1]
        assert not lost, f"{sender.server}: {len(lost)} of {len(sender.acknowledged)} not once"


def test_a_server_stopped_and_started_mid_run_loses_nothing_acknowledged(run: Run) -> None:
    alice = run.restarted
    after = len(alice.acknowledged) - run.acknowledged_before_stop
    print(
        f"alice's client: {run.acknowledged_before_stop} acknowledged before the stop, "
        f"{after} after; attempts answered otherwise while her server was away: "
        f"{dict(alice.failures)}"
    )
    assert run.acknowledged_before_stop > 0
    assert after > 0
    assert alice.failures, "the server's stop did not happen under the client"
    lost = [i for i in alice.acknowledged if len(run.rows.get(i, [])) != 1]
    assert not lost, f"{len(lost)} acknowledged events lost or doubled across the restart"


def test_the_browser_sends_over_the_proxy_and_its_retries_count_once(run: Run) -> None:
    record = run.browser
    sent_again = [i for i, times in record["sent"].items() if times > 1]
    print(
        f"the browser: {len(record['sent'])} events in {record['messages']} socket messages "
        f"and {record['posts']} POSTs on {record['sockets']} sockets; "
        f"{len(sent_again)} sent more than once"
    )
    assert record["messages"] > 0
    assert record["answersWithheld"] == 1
    # On the socket, as the page says, not by POST, its fallback.
    assert record["drained"]["title"].splitlines()[2] == "The server takes events."
    assert not record["rejected"]
    # After the page drained, everything it ever sent was acknowledged...
    assert record["acknowledged"].keys() == record["sent"].keys()
    # ...the batch whose answer it never got, sent again after the restart, among them...
    assert record["withheld"]
    assert all(record["sent"][i] > 1 for i in record["withheld"])
    # ...and recorded once, as alice's.
    assert all([r["__user__"] for r in run.rows[i]] == ["alice"] for i in record["sent"])


# -- the hub's permissions ---------------------------------------------------------------


def refusal(call: Any) -> int:
    """The status of a WebSocket refused at its upgrade (0 if it opened)."""
    try:
        call().close()
    except websocket.WebSocketBadStatusException as err:
        return err.status_code
    return 0


def stream_ids(hub: Hub) -> dict[str, list[dict[str, Any]]]:
    """Each client id in the Redis stream -> its envelopes."""
    found = defaultdict(list)
    for entry in hub.redis.entries(STREAM):
        envelope = json.loads(entry["event"])
        if "__id__" in envelope:
            found[envelope["__id__"]].append(envelope)
    return found


def wait_for_stream(hub: Hub, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The stream once it holds ``ids`` (the Redis sink sends in the background)."""
    deadline = time.monotonic() + 30
    while True:
        found = stream_ids(hub)
        if all(i in found for i in ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_users_token_cannot_reach_another_users_servers(
    hub: Hub, servers: dict[str, Server], tokens: dict[str, str]
) -> None:
    bob = {"Authorization": f"token {tokens['bob']}"}
    for victim in (servers["carol"], servers["carol/second"]):
        event = command_events("bob-at-carol", 0, 1)
        post = requests.post(
            http_url(victim, "events"), data=body_of(event), headers=bob, allow_redirects=False
        )
        info = requests.get(http_url(victim, "info"), headers=bob, allow_redirects=False)
        assert (post.status_code, info.status_code) == (403, 403), (post.text, info.text)
        for route in ("events/socket", "stream"):
            status = refusal(
                lambda route=route, victim=victim: websocket.create_connection(
                    ws_url(victim, route), header=[f"Authorization: token {tokens['bob']}"]
                )
            )
            assert status == 403, route
        # His own server takes the same request.
        own = requests.post(http_url(servers["bob"], "events"), data=body_of(event), headers=bob)
        assert own.status_code == 204, own.text
        found = wait_for_stream(hub, [event[0]["id"]])
        assert [e["__user__"] for e in found[event[0]["id"]]] == ["bob"]


def test_a_hub_admin_reaches_every_users_server_as_itself(
    hub: Hub, servers: dict[str, Server], tokens: dict[str, str]
) -> None:
    admin = {"Authorization": f"token {tokens['admin']}"}
    sent = []
    for server in servers.values():
        event = command_events("admin", 0, 1)
        response = requests.post(http_url(server, "events"), data=body_of(event), headers=admin)
        assert response.status_code == 204, (str(server), response.text)
        assert requests.get(http_url(server, "info"), headers=admin).status_code == 200
        stream = websocket.create_connection(
            ws_url(server, "stream"), header=[f"Authorization: token {tokens['admin']}"]
        )
        assert "run_id" in json.loads(stream.recv())
        stream.close()
        sent.append(event[0]["id"])
    found = wait_for_stream(hub, sent)
    # What the admin posts is the admin's, wherever it posts it.
    assert [[e["__user__"] for e in found[i]] for i in sent] == [["admin"]] * len(sent)


def test_a_client_can_never_set_the_user(
    hub: Hub, servers: dict[str, Server], tokens: dict[str, str]
) -> None:
    carol = {"Authorization": f"token {tokens['carol']}"}
    server = servers["carol/second"]
    forged_data, forged_top, good = (command_events("forged", i, 1)[0] for i in range(3))
    forged_data["data"]["__user__"] = "mallory"
    forged_top["__user__"] = "mallory"
    for forged in (forged_data, forged_top):
        response = requests.post(http_url(server, "events"), json=forged, headers=carol)
        assert response.status_code == 400, response.text
        assert "mallory" not in response.text
    batch = requests.post(
        http_url(server, "events"), json={"events": [forged_data, good, forged_top]}, headers=carol
    )
    assert batch.status_code == 200
    assert batch.json()["accepted"] == 1
    assert [r["index"] for r in batch.json()["rejected"]] == [0, 2]
    socket = websocket.create_connection(
        ws_url(server, "events/socket"), header=[f"Authorization: token {tokens['carol']}"]
    )
    socket.send(json.dumps(forged_data))
    assert json.loads(socket.recv())["status"] == 400
    socket.close()

    found = wait_for_stream(hub, [good["id"]])
    assert [e["__user__"] for e in found[good["id"]]] == ["carol"]
    assert forged_data["id"] not in found
    assert forged_top["id"] not in found
    assert all(e.get("__user__") != "mallory" for es in found.values() for e in es)


def test_a_server_stopped_while_redis_is_away_names_what_it_could_not_send(
    hub: Hub, servers: dict[str, Server], tokens: dict[str, str]
) -> None:
    """Acknowledged means in the server's queue (the JupyterHub page: "What the Redis handler
    guarantees"); a server that stops sends its queue on its way out, for at most
    flush_timeout, and names in a warning what it could not send. Here Redis takes no
    writes until the hub has stopped the server (SIGINT, as its spawner does)."""
    bob = Sender(servers["bob"], tokens["bob"], "post")
    with hub.redis.client() as redis:
        redis.execute_command("CLIENT", "PAUSE", REDIS_AWAY_MS, "WRITE")
        try:
            bob.send(command_events("bob-stopped", 0, 200))
            assert not bob.acknowledged.keys() & stream_ids(hub).keys(), "Redis took writes"
            log_before = len(hub.log())
            hub.stop_server("bob")
        finally:
            redis.execute_command("CLIENT", "UNPAUSE")
            hub.start_server("bob")
    said = hub.log()[log_before:]
    assert re.search(r"Closing the Redis stream 'jupyter_events' .* with 200 events not sent", said)


# -- what the idle culler sees -------------------------------------------------------------


def test_the_hub_sees_a_servers_activity_while_only_events_flow(
    hub: Hub, servers: dict[str, Server], tokens: dict[str, str]
) -> None:
    """Each server reports its last activity every ACTIVITY_INTERVAL s; JupyterHub's idle
    culler reads what the hub was told. A server whose user only sends events (by POST,
    or as messages on an events socket opened before) is active; a quiet one is not."""
    socket = websocket.create_connection(
        ws_url(servers["carol/second"], "events/socket"),
        header=[f"Authorization: token {tokens['carol']}"],
    )
    time.sleep(3)  # what the opening did is reported, then nothing more
    quiet = hub.last_activity("carol")
    began = datetime.now(timezone.utc)
    assert hub.last_activity("carol", "second") < began
    assert hub.last_activity("bob") < began

    for i in range(3):
        socket.send(body_of(command_events("activity", i, 1)))
        assert json.loads(socket.recv())["status"] == 204
        response = requests.post(
            http_url(servers["bob"], "events"),
            data=body_of(command_events("activity", i, 1)),
            headers={"Authorization": f"token {tokens['bob']}"},
        )
        assert response.status_code == 204
        time.sleep(1)
    socket.close()

    wait_until(
        lambda: hub.last_activity("carol", "second") > began and hub.last_activity("bob") > began,
        15,
        "the servers' activity at the hub",
    )
    # Carol's default server, which got nothing, is as idle as it was.
    assert hub.last_activity("carol") == quiet
