"""Download of a schema document from an http(s) URL, bounded in time and size."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .errors import EventSchemaFetchError

_SCHEMES = ("http", "https")
# Redirects followed at most, each within what is left of the one deadline.
MAX_REDIRECTS = 5


class _BoundedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most ``MAX_REDIRECTS`` redirects, to http(s) only (urllib would follow
    one to ftp://), each given only the time left before the deadline."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, deadline: float, url: str, timeout: float) -> None:
        super().__init__()
        self.deadline = deadline
        self.url = url
        self.timeout = timeout

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in _SCHEMES:
            raise EventSchemaFetchError(f"{req.full_url} redirects to {newurl}, not http(s)")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.timeout = _time_left(self.deadline, self.url, self.timeout)
        return new


def _time_left(deadline: float, url: str, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise EventSchemaFetchError(f"Schema at {url} timed out after {timeout} s")
    return left


def _socket_of(response: Any) -> socket.socket | None:
    # http.client keeps the socket two private attributes down; without it, each read
    # is still bounded by the timeout the connection was opened with.
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _read_bounded(
    response: Any, url: str, deadline: float, timeout: float, max_bytes: int
) -> bytes:
    # read1 returns what one receive brings, so a server that trickles a byte at a time
    # cannot hold a read open past the deadline; each receive may wait only what is left.
    sock = _socket_of(response)
    chunks: list[bytes] = []
    size = 0
    while True:
        if sock is not None:
            sock.settimeout(_time_left(deadline, url, timeout))
        chunk = response.read1(min(65536, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise EventSchemaFetchError(
                f"Schema at {url} is larger than the {max_bytes} bytes allowed"
            )
        _time_left(deadline, url, timeout)


def download_schema(url: str, *, timeout: float, max_bytes: int) -> str:
    """Return the text at ``url``; raise ``EventSchemaFetchError`` saying why if there is none.

    Only http and https are allowed, at most ``MAX_REDIRECTS`` redirects are followed (to
    http or https only), everything — connecting, redirects, the body — must finish
    within ``timeout`` seconds in all, and a body larger than ``max_bytes`` is refused.
    """
    scheme = urllib.parse.urlsplit(url).scheme if isinstance(url, str) else None
    if scheme not in _SCHEMES:
        raise EventSchemaFetchError(f"Schema URL must be http:// or https://, not {url!r}")
    deadline = time.monotonic() + timeout
    # ProxyHandler and the rest come with build_opener; only redirects are restricted.
    opener = urllib.request.build_opener(_BoundedRedirects(deadline, url, timeout))
    request = urllib.request.Request(url, headers={"Accept": "application/json, application/yaml"})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise EventSchemaFetchError(
                    f"Schema at {url} is {length} bytes, more than the {max_bytes} allowed"
                )
            body = _read_bounded(response, url, deadline, timeout, max_bytes)
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as err:
        raise EventSchemaFetchError(f"Schema at {url}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, EventSchemaFetchError):
            raise err.reason from None
        raise EventSchemaFetchError(f"Schema at {url} could not be fetched: {err.reason}") from err
    except (socket.timeout, TimeoutError) as err:
        raise EventSchemaFetchError(f"Schema at {url} timed out after {timeout} s") from err
    except EventSchemaFetchError:
        raise
    except (OSError, ValueError) as err:  # connection reset, malformed response, bad URL
        raise EventSchemaFetchError(f"Schema at {url} could not be fetched: {err}") from err
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError) as err:
        raise EventSchemaFetchError(f"Schema at {url} is not {charset} text: {err}") from err
