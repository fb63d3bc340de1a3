"""Download of a schema document from an http(s) URL, bounded in time and size."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from .errors import EventSchemaFetchError

_SCHEMES = ("http", "https")


class _HTTPOnlyRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect to ftp://; a schema URL stays on http(s).
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in _SCHEMES:
            raise EventSchemaFetchError(f"{req.full_url} redirects to {newurl}, not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_bounded(response, url: str, timeout: float, max_bytes: int) -> bytes:  # type: ignore[no-untyped-def]
    # The socket timeout bounds each read; the deadline bounds a server that trickles.
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(min(65536, max_bytes + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise EventSchemaFetchError(
                f"Schema at {url} is larger than the {max_bytes} bytes allowed"
            )
        if time.monotonic() > deadline:
            raise EventSchemaFetchError(f"Schema at {url} timed out after {timeout} s")
    return b"".join(chunks)


def download_schema(url: str, *, timeout: float, max_bytes: int) -> str:
    """Return the text at ``url``; raise ``EventSchemaFetchError`` saying why if there is none.

    Only http and https are allowed, the whole download must finish within ``timeout``
    seconds, and a body larger than ``max_bytes`` is refused.
    """
    scheme = urllib.parse.urlsplit(url).scheme if isinstance(url, str) else None
    if scheme not in _SCHEMES:
        raise EventSchemaFetchError(f"Schema URL must be http:// or https://, not {url!r}")
    # ProxyHandler and the rest come with build_opener; only redirects are restricted.
    opener = urllib.request.build_opener(_HTTPOnlyRedirects)
    request = urllib.request.Request(url, headers={"Accept": "application/json, application/yaml"})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise EventSchemaFetchError(
                    f"Schema at {url} is {length} bytes, more than the {max_bytes} allowed"
                )
            body = _read_bounded(response, url, timeout, max_bytes)
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as err:
        raise EventSchemaFetchError(f"Schema at {url}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise EventSchemaFetchError(f"Schema at {url} could not be fetched: {err.reason}") from err
    except (socket.timeout, TimeoutError) as err:
        raise EventSchemaFetchError(f"Schema at {url} timed out after {timeout} s") from err
    except (OSError, ValueError) as err:  # connection reset, malformed response, bad URL
        raise EventSchemaFetchError(f"Schema at {url} could not be fetched: {err}") from err
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError) as err:
        raise EventSchemaFetchError(f"Schema at {url} is not {charset} text: {err}") from err
