"""The JupyterHub that tests/hub/ and scripts/hub-demo.sh run (jupyterhub -f this file).

What is specific to one run (ports, the state directory, passwords, the Redis URL) comes
from the environment that ``tests/hub/deployment.py`` sets; the rest is what an operator
would write. Each user's server loads this extension as docs/operators/jupyterhub.md's
section configures it: that block is written, unchanged, to the ``jupyter_server_config.py``
in ``$EVENTS_HUB_DIR/etc/jupyter``, which every server finds on ``JUPYTER_CONFIG_PATH``.
"""

import os
import sys

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

state = os.environ["EVENTS_HUB_DIR"]

# The public face: configurable-http-proxy, installed by tests/hub/package.json.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ["EVENTS_HUB_PORT"])
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ["EVENTS_HUB_API_PORT"])
c.ConfigurableHTTPProxy.command = [os.environ["EVENTS_HUB_PROXY"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ['EVENTS_HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{os.path.join(state, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")

# Users log in with one shared password; "admin" with its own, and holds the admin role.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["EVENTS_HUB_PASSWORD"]
c.SharedPasswordAuthenticator.admin_password = os.environ["EVENTS_HUB_ADMIN_PASSWORD"]
c.Authenticator.allowed_users = set(os.environ["EVENTS_HUB_USERS"].split())
c.Authenticator.admin_users = {"admin"}

# Servers are processes of the hub's own OS user, each user's home a directory of its
# own: a user's default and named servers share it, as they share a home on any hub.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(state, "home", "{username}")
c.JupyterHub.allow_named_servers = True
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root"]  # CI runs as root
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "PATH": os.environ["PATH"],
    # Where the servers find the docs' jupyter_server_config.py (an image would put it
    # in /etc/jupyter).
    "JUPYTER_CONFIG_PATH": os.path.join(state, "etc", "jupyter"),
    # What that configuration reads: the one Redis that every server's events go to.
    "JUPYTER_EVENTS_REDIS_URL": os.environ["JUPYTER_EVENTS_REDIS_URL"],
    # How often each server tells the hub when it was last active (JupyterHub's default
    # is 300 s); the idle culler decides on what the hub was told.
    "JUPYTERHUB_ACTIVITY_INTERVAL": os.environ.get("EVENTS_HUB_ACTIVITY_INTERVAL", "300"),
}
# The hub's other source of activity is the proxy's view, polled every this many seconds
# (default 300); the tests set it beyond their run, so that what the hub knows of a
# server's activity is what the server reported.
c.JupyterHub.last_activity_interval = int(
    os.environ.get("EVENTS_HUB_PROXY_ACTIVITY_INTERVAL", "300")
)

# A service the tests and the demo drive the hub with: users, servers and tokens.
c.JupyterHub.services = [{"name": "events-hub-driver", "api_token": os.environ["EVENTS_HUB_TOKEN"]}]
c.JupyterHub.load_roles = [
    {
        "name": "events-hub-driver",
        "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens"],
        "services": ["events-hub-driver"],
    }
]
