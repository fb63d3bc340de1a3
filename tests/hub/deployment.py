"""A JupyterHub of our own, deployed as the docs say: the hub, configurable-http-proxy,
one redis-server, and each user's server loading the configuration of docs/operators/jupyterhub.md.

Used by the tests in this directory, by ``benchmarks/bench_hub.py`` and, run as a script,
by ``scripts/hub-demo.sh``. Every port is free when chosen, every file under one
directory, so that several checkouts can run one side by side.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # tests/redis_server.py, also for the demo
from redis_server import RedisServer, free_port  # noqa: E402

PAGE = ROOT / "docs" / "operators" / "jupyterhub.md"
HUB_CONFIG = HERE / "jupyterhub_config.py"
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
# The first line of the page's block that every user's server loads.
SERVER_CONFIG_HEADER = "# jupyter_server_config.py of every user's server"
STREAM = "jupyter_events"  # the stream that configuration names
ADMIN = "admin"
START_TIMEOUT = 120.0


def page_server_config() -> str:
    """The ``jupyter_server_config.py`` for every user's server, as it stands in
    docs/operators/jupyterhub.md."""
    text = PAGE.read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        if block.startswith(SERVER_CONFIG_HEADER):
            return block
    raise LookupError(f"{PAGE.name} has no block '{SERVER_CONFIG_HEADER}'")


@dataclass(frozen=True)
class Server:
    """One user's server (``name`` "" for the default one), reached through the proxy."""

    user: str
    name: str
    url: str  # ends in "/": the server's base URL on the hub

    def __str__(self) -> str:
        return f"{self.user}/{self.name}" if self.name else self.user


class Hub:
    """JupyterHub with its proxy and a redis-server, all under ``directory``.

    ``users`` may log in with ``password``; "admin" (the hub's admin role) with
    ``admin_password``. ``activity_interval`` is how often (s) each server reports its
    activity to the hub; ``port`` the proxy's public port (default: a free one).
    """

    def __init__(
        self,
        directory: Path,
        users: list[str],
        *,
        activity_interval: int = 300,
        port: int | None = None,
    ) -> None:
        self.directory = directory
        self.users = users
        self.activity_interval = activity_interval
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(12)
        self.admin_password = secrets.token_urlsafe(32)
        self.token = secrets.token_hex(32)
        self.redis = RedisServer(directory / "redis")
        self.log_path = directory / "jupyterhub.log"
        self.process: subprocess.Popen[bytes] | None = None

    # -- the deployment ----------------------------------------------------------------

    def start(self) -> None:
        if not PROXY.exists():
            raise RuntimeError(
                f"{PROXY} is missing: install the hub's Node packages first "
                f"(cd {HERE} && jlpm install), as scripts/test.sh does"
            )
        (self.directory / "redis").mkdir(parents=True, exist_ok=True)
        self.redis.start()
        config_dir = self.directory / "etc" / "jupyter"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "jupyter_server_config.py").write_text(page_server_config())
        env = {
            **os.environ,
            "EVENTS_HUB_DIR": str(self.directory),
            "EVENTS_HUB_PORT": str(self.port),
            "EVENTS_HUB_API_PORT": str(free_port()),
            "EVENTS_HUB_PROXY_API_PORT": str(free_port()),
            "EVENTS_HUB_PROXY": str(PROXY),
            "EVENTS_HUB_PASSWORD": self.password,
            "EVENTS_HUB_ADMIN_PASSWORD": self.admin_password,
            "EVENTS_HUB_USERS": " ".join([*self.users, ADMIN]),
            "EVENTS_HUB_TOKEN": self.token,
            "EVENTS_HUB_ACTIVITY_INTERVAL": str(self.activity_interval),
            "EVENTS_HUB_PROXY_ACTIVITY_INTERVAL": "86400",
            "JUPYTER_EVENTS_REDIS_URL": self.redis.url,
            # The bin directory of this Python first: the servers' kernels, jupyter's tools.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)],
            cwd=self.directory,
            env=env,
            # No terminal: a server stopped with SIGINT must not stop to ask "y/[n]?".
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited at start-up:\n{self.log()[-5000:]}")
            try:
                if self.api("GET", "")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterHub did not answer:\n{self.log()[-5000:]}")
            time.sleep(0.2)
        status, body = self.api("POST", "users", {"usernames": [*self.users, ADMIN]})
        if status not in (201, 409):
            raise RuntimeError(f"creating the users: {status} {body}")

    def stop(self) -> None:
        """Stop the hub (which stops the servers and the proxy), then Redis."""
        leftovers = set()
        if self.process is not None and self.process.poll() is None:
            leftovers = self._server_pids()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        with contextlib.suppress(OSError, ValueError):
            leftovers.add(int((self.directory / "proxy.pid").read_text()))
        # What outlived the hub, if it could not stop it: only processes of this deployment.
        for pid in leftovers:
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(str(self.directory)):
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.redis.stop()

    def _server_pids(self) -> set[int]:
        try:
            status, users = self.api("GET", "users?state=active")
        except OSError:
            return set()
        if status != 200:
            return set()
        return {
            server["state"]["pid"]
            for user in users
            for server in user.get("servers", {}).values()
            if (server.get("state") or {}).get("pid")
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- the hub's REST API ------------------------------------------------------------

    def api(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> tuple[int, Any]:
        """Call the hub's REST API (through the proxy) with the driver's token, or ``token``."""
        request = urllib.request.Request(
            f"{self.url}/hub/api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"token {token or self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def server(self, user: str, name: str = "") -> Server:
        path = f"user/{user}/" + (f"{urllib.parse.quote(name)}/" if name else "")
        return Server(user, name, f"{self.url}/{path}")

    @staticmethod
    def _server_path(user: str, name: str) -> str:
        return (
            f"users/{user}/servers/{urllib.parse.quote(name)}" if name else f"users/{user}/server"
        )

    def _server_model(self, user: str, name: str) -> dict[str, Any] | None:
        status, model = self.api("GET", f"users/{user}")
        if status != 200:
            raise RuntimeError(f"GET users/{user}: {status} {model}")
        return model.get("servers", {}).get(name)

    def start_servers(self, servers: list[tuple[str, str]]) -> list[Server]:
        """Spawn each (user, server name) at once, and wait until the hub says all are ready."""
        for user, name in servers:
            path = self._server_path(user, name)
            status, body = self.api("POST", path)
            if status not in (201, 202):
                raise RuntimeError(f"POST {path}: {status} {body}\n{self.log()[-5000:]}")
        deadline = time.monotonic() + START_TIMEOUT
        for user, name in servers:
            while True:
                model = self._server_model(user, name)
                if model and model.get("ready"):
                    break
                if model is None or time.monotonic() > deadline:
                    raise RuntimeError(f"{user}/{name} did not start:\n{self.log()[-5000:]}")
                time.sleep(0.2)
        return [self.server(user, name) for user, name in servers]

    def start_server(self, user: str, name: str = "") -> Server:
        return self.start_servers([(user, name)])[0]

    def stop_server(self, user: str, name: str = "") -> None:
        """Stop the server as the hub does (its spawner: SIGINT, then SIGTERM, then
        SIGKILL) and wait until it is gone."""
        path = self._server_path(user, name)
        status, body = self.api("DELETE", path)
        if status not in (202, 204):
            raise RuntimeError(f"DELETE {path}: {status} {body}")
        deadline = time.monotonic() + START_TIMEOUT
        while self._server_model(user, name) is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user}/{name} did not stop:\n{self.log()[-5000:]}")
            time.sleep(0.2)

    def new_token(self, user: str, note: str = "events-hub tests") -> str:
        """A new API token of ``user`` (with the user's own permissions)."""
        status, body = self.api("POST", f"users/{user}/tokens", {"note": note})
        if status != 201:
            raise RuntimeError(f"POST users/{user}/tokens: {status} {body}")
        return body["token"]

    def last_activity(self, user: str, name: str = "") -> datetime | None:
        """When the hub last heard of activity on this server (what the idle culler reads)."""
        model = self._server_model(user, name)
        stamp = model and model.get("last_activity")
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def main() -> None:
    """The demo (scripts/hub-demo.sh): the tests' hub, left running until Ctrl-C."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="the hub's public port (default: a free one)")
    options = parser.parse_args()
    users = ["alice", "bob", "carol"]
    directory = Path(tempfile.mkdtemp(prefix="jupyter-events-hub-"))
    hub = Hub(directory, users, port=options.port)
    # Ctrl-C, even when started where SIGINT is ignored, and SIGTERM: stop it all in order.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Starting JupyterHub, its proxy and redis-server under {directory} ...", flush=True)
    try:
        hub.start()
        hub.start_servers([("alice", ""), ("bob", ""), ("carol", ""), ("carol", "second")])
        jupyter = Path(sys.executable).parent / "jupyter"
        print(
            f"""
JupyterHub is at {hub.url}/hub/login
  users {", ".join(users)}: password {hub.password}
  admin (the hub's admin role): password {hub.admin_password}
  servers running: alice, bob, carol, and carol's named server "second"
  ({hub.url}/user/carol/second/). Each loads this extension with docs/operators/jupyterhub.md's
  configuration: {directory / "etc" / "jupyter" / "jupyter_server_config.py"}

Every server's events go to one Redis stream. In another terminal:
  {jupyter} events-ext tail --url {hub.redis.url} --from start
  {jupyter} events-ext tail --url {hub.redis.url} --group archivers > archive.jsonl
  {jupyter} events-ext export {hub.redis.url}#{STREAM} --format parquet -o hub-events/

The hub's log: {hub.log_path}. Ctrl-C stops everything.""",
            flush=True,
        )
        while hub.process is not None and hub.process.poll() is None:
            time.sleep(1)
        print(f"JupyterHub exited:\n{hub.log()[-3000:]}")
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
