"""A browser on the hub: ``browser_agent.js`` (Playwright, Debian's Chromium) in a process of
its own, told what to do one command at a time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AGENT = HERE / "browser_agent.js"


class BrowserError(RuntimeError):
    """The browser could not do what it was told."""


class Browser:
    """One Chromium with one page; ``log`` gets what the agent prints on stderr."""

    def __init__(self, log: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise BrowserError("node is not on PATH")
        self._log = open(log, "ab")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [node, str(AGENT)],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # Chromium's processes with it, to end together
        )

    def do(self, command: str, **arguments: Any) -> dict[str, Any]:
        """Do ``command`` and return the agent's answer; raise ``BrowserError`` if it failed."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"do": command, **arguments}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise BrowserError(f"the browser agent exited ({self.process.wait()}) during {command}")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise BrowserError(f"{command}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
