"""A loopback HTTP front door that does what an API Gateway REST proxy integration does:
turn the request into a proxy event, invoke the function's alias (so alias weights split traffic),
and turn the proxy response back into HTTP. Used by the post-traffic tests and the rehearsal.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from safedeploy_core.smoke import Request, api_gateway_event, decode_proxy_response


def match_route(routes: dict[str, str], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route serving `METHOD path` and its path parameters: `GET /items/{id}` takes /items/7 with
    {"id": "7"}, `{proxy+}` takes the rest of the path, `ANY` any method, `$default` anything left."""
    for route in sorted(routes, key=lambda r: (r == "$default", "+}" in r, r.count("{"), -len(r))):
        if route == "$default":
            return route, {}
        verb, _, template = route.partition(" ")
        if verb not in (method, "ANY", "*"):
            continue
        names: list[str] = []
        parts = []
        for piece in re.split(r"(\{[A-Za-z0-9_]+\+?\})", template):
            if piece.startswith("{") and piece.endswith("}"):
                names.append(piece[1:-1].rstrip("+"))
                parts.append("(.+)" if piece.endswith("+}") else "([^/]+)")
            else:
                parts.append(re.escape(piece))
        pattern = "".join(parts)
        found = re.fullmatch(pattern, path)
        if found:
            return route, dict(zip(names, found.groups(), strict=True))
    return None


def _handler_class(
    lambda_client: Any, routes: dict[str, str], stage: str, formats: dict[str, str]
) -> type[BaseHTTPRequestHandler]:
    class ProxyHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            url = urlparse(self.path)
            path = url.path
            if path.startswith(f"/{stage}/"):
                path = path[len(stage) + 1 :]
            matched = match_route(routes, self.command, path)
            if matched is None:
                self._reply(403, {"message": "Missing Authentication Token"})
                return
            route, path_parameters = matched
            target = routes[route]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else None
            event = api_gateway_event(
                Request(
                    self.command,
                    path,
                    {k: v for k, v in self.headers.items()},
                    dict(parse_qsl(url.query)),
                    body,
                    path_parameters,
                    formats.get(route, "1.0"),
                )
            )
            response = lambda_client.invoke(FunctionName=target, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"null")
            if formats.get(route) == "2.0" and not response.get("FunctionError"):
                status, body = decode_proxy_response(payload, "2.0")
                if status == 200 and not (isinstance(payload, dict) and "statusCode" in payload):
                    payload = {"statusCode": 200, "body": json.dumps(body)}
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
def serve_api(
    lambda_client: Any, routes: dict[str, str], stage: str = "Prod", formats: dict[str, str] | None = None
) -> Iterator[str]:
    """routes: {"GET /hello": "fn:live", ...}; formats: a route's payload format when not "1.0".
    Yields the base URL, e.g. http://127.0.0.1:PORT/Prod."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler_class(lambda_client, routes, stage, formats or {})
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{stage}"
    finally:
        server.shutdown()
        server.server_close()
