"""A loopback HTTP front door that does what an API Gateway REST proxy integration does:
turn the request into a proxy event, invoke the function's alias (so alias weights split traffic),
and turn the proxy response back into HTTP. Used by the post-traffic tests and the rehearsal.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from safedeploy_core.smoke import Request, api_gateway_event


def _handler_class(lambda_client: Any, routes: dict[str, str], stage: str) -> type[BaseHTTPRequestHandler]:
    class ProxyHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            url = urlparse(self.path)
            path = url.path
            if path.startswith(f"/{stage}/"):
                path = path[len(stage) + 1 :]
            target = routes.get(f"{self.command} {path}")
            if target is None:
                self._reply(403, {"message": "Missing Authentication Token"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else None
            event = api_gateway_event(
                Request(
                    self.command,
                    path,
                    {k: v for k, v in self.headers.items()},
                    dict(parse_qsl(url.query)),
                    body,
                )
            )
            response = lambda_client.invoke(FunctionName=target, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"null")
            if response.get("FunctionError") or not isinstance(payload, dict) or "statusCode" not in payload:
                self._reply(502, {"message": "Internal server error"})
                return
            self._reply(int(payload["statusCode"]), payload.get("body") or "", payload.get("headers") or {})

        def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            for key, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return ProxyHandler


@contextmanager
def serve_api(lambda_client: Any, routes: dict[str, str], stage: str = "Prod") -> Iterator[str]:
    """routes: {"GET /hello": "fn:live", ...}. Yields the base URL, e.g. http://127.0.0.1:PORT/Prod."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(lambda_client, routes, stage))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{stage}"
    finally:
        server.shutdown()
        server.server_close()
