"""One running function: its runner process (one per runtime, shipped in `runners/`), spoken to in JSON
lines over a pipe. The process lives for the whole rehearsal, as a warm Lambda environment does."""

from __future__ import annotations

import json
import selectors
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from safedeploy.errors import UserError

INIT_LIMIT_S = 60.0  # Lambda's init phase is limited to 10 s; a first import of a cold cache is slower
KILL_WAIT_S = 5.0


class FunctionError(Exception):
    """The function raised (or timed out): Lambda's `FunctionError: Unhandled` with its payload."""

    def __init__(self, payload: dict[str, Any], logs: str = "", refused: list[str] | None = None) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.payload, self.logs, self.refused = payload, logs, list(refused or [])


@dataclass
class Answer:
    result: Any
    logs: str
    refused: list[str]


@dataclass
class FunctionProcess:
    """`command` starts the runner; `env` is all the function sees of an environment."""

    name: str  # the template's logical id, for messages
    command: list[str]
    env: dict[str, str]
    cwd: Path
    timeout_s: float
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _stderr: IO[bytes] | None = field(default=None, init=False)
    # one call at a time, as one execution environment serves one request at a time
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def start(self) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self.env,
            cwd=self.cwd,
        )
        first = self._read(INIT_LIMIT_S)
        if first is None:
            self.close()
            raise UserError(f"{self.name} did not load within {INIT_LIMIT_S:g} s{self._last_words()}")
        if "init_error" in first:
            error = first["init_error"]
            self.close()
            raise UserError(
                f"{self.name} failed to load: {error.get('errorType')}: {error.get('errorMessage')}"
            )

    def invoke(self, event: Any, context: dict[str, Any], env: dict[str, str]) -> Answer:
        """One invocation; FunctionError when the function raised or ran past its timeout."""
        with self._lock:
            return self._invoke(event, context, env)

    def _invoke(self, event: Any, context: dict[str, Any], env: dict[str, str]) -> Answer:
        if self._process is None or self._process.poll() is not None:
            self.start()  # a crashed environment is replaced, as Lambda does
        assert self._process is not None and self._process.stdin is not None
        request = {"event": event, "context": context, "env": env}
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        self._process.stdin.flush()
        answer = self._read(self.timeout_s + 1.0)
        if answer is None:
            crashed = self._process.poll() is not None
            self.close()
            message = "Runtime exited" if crashed else f"Task timed out after {self.timeout_s:.2f} seconds"
            raise FunctionError({"errorMessage": message, "errorType": "Runtime.ExitError"})
        if "error" in answer:
            raise FunctionError(answer["error"], answer.get("logs", ""), answer.get("refused", []))
        return Answer(answer.get("result"), answer.get("logs", ""), list(answer.get("refused", [])))

    def _read(self, limit_s: float) -> dict[str, Any] | None:
        assert self._process is not None and self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(limit_s):
                return None
        line = self._process.stdout.readline()
        if not line:
            return None
        message: dict[str, Any] = json.loads(line)
        return message

    def _last_words(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""

    def close(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(KILL_WAIT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
