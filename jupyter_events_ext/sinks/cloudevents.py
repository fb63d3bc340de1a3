"""An event envelope as a CloudEvent 1.0, in the JSON structured mode.

- ``specversion``: ``"1.0"``;
- ``id``: the client id (``__id__``), or a new UUID 4 for an event without one;
- ``source``: configurable, a template, by default ``/hub/user/{username}/{server}``;
- ``type``: the schema's ``$id`` (``__schema__``);
- ``dataschema``: the ``$id`` with its version, ``<$id>?version=<__schema_version__>``,
  when the ``$id`` is an absolute URI (as CloudEvents requires of ``dataschema``);
- ``time``: ``__timestamp__``, already RFC 3339 in UTC;
- ``subject``: the event's ``path``, when it has a non-empty string one;
- ``datacontenttype``: ``"application/json"``;
- ``data``: the event's data, the envelope without its ``__…__`` fields;
- ``jupyter<name>``: other metadata as extension attributes (lower-case letters and
  digits only), e.g. ``__user__`` → ``jupyteruser``; a value that is no string,
  integer or boolean as its JSON text.

The source and the id together name an event uniquely, so a receiver can deduplicate by
them: a client id names one event however often it is sent, and a generated id is made
once, when the event is queued, so that it is the same in every retry of its batch.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import string
import uuid
from typing import Any
from urllib.parse import urlsplit

from ..events.envelope import EVENT_ID_FIELD

SPECVERSION = "1.0"
DEFAULT_SOURCE = "/hub/user/{username}/{server}"
# The content type of one structured event and of a batch of them (JSON array).
CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"

# Envelope fields that become core attributes (or nothing), not extensions.
_CORE_FIELDS = frozenset(
    ("__schema__", "__schema_version__", "__timestamp__", "__metadata_version__", EVENT_ID_FIELD)
)
_NOT_EXTENSION_CHARACTERS = re.compile(r"[^a-z0-9]")


def source_fields() -> dict[str, str]:
    """What a source template may name: ``username`` ($JUPYTERHUB_USER, else the OS
    user), ``server`` ($JUPYTERHUB_SERVER_NAME, else "": a user's default server) and
    ``hostname``."""
    try:
        os_user = getpass.getuser()
    except Exception:  # no user name for this uid, e.g. in some containers
        os_user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return {
        "username": os.environ.get("JUPYTERHUB_USER") or os_user,
        "server": os.environ.get("JUPYTERHUB_SERVER_NAME", ""),
        "hostname": socket.gethostname(),
    }


class CloudEventFormat:
    """Turns event envelopes into CloudEvents of one ``source``.

    Parameters
    ----------
    source
        The CloudEvents ``source`` (a URI reference), as a ``str.format`` template that
        may name ``{username}``, ``{server}`` and ``{hostname}`` (see ``source_fields``).
        Filled in once, here. Default ``/hub/user/{username}/{server}``.
    """

    def __init__(self, source: str = DEFAULT_SOURCE) -> None:
        names = {field for _, field, _, _ in string.Formatter().parse(source) if field}
        unknown = names - source_fields().keys()
        if unknown:
            raise ValueError(
                f"source {source!r} names {sorted(unknown)}; it may name only "
                f"{sorted(source_fields())}"
            )
        self.source = source.format(**source_fields())
        if not self.source:
            raise ValueError("source must not be empty")

    def event(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """The structured-mode CloudEvent (a JSON object) of an event envelope."""
        schema_id = envelope["__schema__"]
        client_id = envelope.get(EVENT_ID_FIELD)
        cloudevent: dict[str, Any] = {
            "specversion": SPECVERSION,
            "id": str(client_id) if client_id is not None else str(uuid.uuid4()),
            "source": self.source,
            "type": schema_id,
        }
        version = envelope.get("__schema_version__")
        if version is not None and urlsplit(schema_id).scheme:
            joiner = "&" if "?" in schema_id else "?"
            cloudevent["dataschema"] = f"{schema_id}{joiner}version={version}"
        if "__timestamp__" in envelope:
            cloudevent["time"] = envelope["__timestamp__"]
        data = {}
        for key, value in envelope.items():
            if not (len(key) > 4 and key.startswith("__") and key.endswith("__")):
                data[key] = value
            elif key not in _CORE_FIELDS and value is not None:
                name = "jupyter" + _NOT_EXTENSION_CHARACTERS.sub("", key[2:-2].lower())
                if not isinstance(value, (str, int)):  # bool is an int
                    value = json.dumps(value, separators=(",", ":"))
                cloudevent[name] = value
        path = data.get("path")
        if isinstance(path, str) and path:
            cloudevent["subject"] = path
        cloudevent["datacontenttype"] = "application/json"
        cloudevent["data"] = data
        return cloudevent
