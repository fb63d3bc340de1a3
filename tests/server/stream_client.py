"""Reading the live stream in tests: every socket opens with the message naming the run."""

from __future__ import annotations

import asyncio
import json


async def receive(ws, count: int, timeout: float = 10) -> list[dict]:
    return [json.loads(await asyncio.wait_for(ws.read_message(), timeout)) for _ in range(count)]


async def read_hello(ws) -> dict:
    """The first message: ``{"run_id": ..., "last_seq": ...}``."""
    (hello,) = await receive(ws, 1)
    assert set(hello) == {"run_id", "last_seq"}
    return hello


async def open_stream(jp_ws_fetch, **kwargs):
    """Open the stream and read past its first message."""
    ws = await jp_ws_fetch("jupyter-events-ext", "stream", **kwargs)
    await read_hello(ws)
    return ws
