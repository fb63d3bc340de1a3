"""A WebSocket spoken by hand over a TCP connection, for what a library client hides: small
buffers, writing without reading, the frames the server sent."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

TEXT, CLOSE = 0x1, 0x8


async def open_raw_socket(port: int, path: str, token: str):
    """Complete the handshake on a connection with a small receive buffer, so that the
    server's writes back up as they would to a frozen browser; return (reader, writer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: token {token}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    return reader, writer


def masked_frame(text: str) -> bytes:
    """One text frame as a client must send it: masked."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | TEXT, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | TEXT, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | TEXT, 0x80 | 127, size)
    mask = os.urandom(4)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big") if size else b""
    return head + mask + masked


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The next frame the server sent (unmasked, unfragmented): (opcode, payload)."""
    opcode, length = struct.unpack("!BB", await reader.readexactly(2))
    length &= 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    return opcode & 0x0F, await reader.readexactly(length)


def close_frame(data: bytes) -> tuple[int, str] | None:
    """The code and reason of the close frame among the server's (unmasked) frames."""
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif length == 127:
            (length,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        payload = data[at : at + length]
        at += length
        if opcode == CLOSE:
            return struct.unpack("!H", payload[:2])[0], payload[2:].decode()
    return None
