"""The Python function runner: a child process that loads one handler and answers invocations.

Started as `python -I -S python_runner.py TASK_ROOT HANDLER PATH...` (isolated, no site-packages: the
function sees the standard library, its own code and its own dependencies only). Protocol, one JSON
document a line: stdin {"event", "context"}; stdout first {"ready": true} or {"init_error": {...}},
then one answer per request {"result"} or {"error"}, each with the call's "logs" (what the function
wrote to stdout) and "refused" (hosts it tried to reach outside the machine). Standard library only.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
import traceback
from typing import Any, NoReturn

LOOPBACK = ("localhost", "127.", "::1", "0:0:0:0:0:0:0:1")
REFUSED: list[str] = []


def loopback(host: object) -> bool:
    host = str(host or "").strip("[]").lower()
    return not host or host.startswith(LOOPBACK) or host.endswith(".localhost")


def guard_network() -> None:
    """Nothing leaves the machine: a name lookup or a connection to anything but loopback is refused
    (and remembered, so the rehearsal can say who tried to reach what)."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def refuse(host: object) -> NoReturn:
        REFUSED.append(str(host))
        raise ConnectionRefusedError(
            f"rehearsal: refused a connection to {host} (only the fake account on loopback is reachable)"
        )

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not loopback(host):
            refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def target(address: Any) -> Any:
        return address[0] if isinstance(address, tuple) else None

    def connect(self: socket.socket, address: Any) -> None:
        host = target(address)
        if host is not None and not loopback(host):
            refuse(host)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        host = target(address)
        if host is not None and not loopback(host):
            refuse(host)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]


class Capture(io.TextIOBase):
    """sys.stdout for the function: each call's output is kept and sent back with its answer."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


class Context:
    """The fields of Lambda's Python context object."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.function_name = fields["function_name"]
        self.function_version = fields["function_version"]
        self.invoked_function_arn = fields["invoked_function_arn"]
        self.memory_limit_in_mb = int(fields["memory_limit_in_mb"])
        self.aws_request_id = fields["aws_request_id"]
        self.log_group_name = fields["log_group_name"]
        self.log_stream_name = fields["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = time.monotonic() + float(fields["timeout_s"])

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def error_of(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__)[-3:],
    }


def main() -> None:
    task_root, handler_name, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # output written below Python (C extensions) must not break the protocol
    capture = Capture()
    sys.stdout = capture
    sys.path[:0] = [task_root, *paths]
    os.chdir(task_root)
    guard_network()

    def send(message: dict[str, Any]) -> None:
        message["logs"] = capture.take()
        message["refused"] = REFUSED[:]
        del REFUSED[:]
        protocol.write(json.dumps(message, default=str) + "\n")
        protocol.flush()

    module_name, _, function_name = handler_name.rpartition(".")
    try:
        import importlib

        handler = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    except BaseException as exc:  # any failure to load is the function's init error
        send({"init_error": error_of(exc)})
        return
    send({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        os.environ.update(request.get("env") or {})
        try:
            result = handler(request["event"], Context(request["context"]))
            json.dumps(result)
            send({"result": result})
        except Exception as exc:
            send({"error": error_of(exc)})


if __name__ == "__main__":
    main()
