"""The ingest API on 127.0.0.1: a small WSGI adapter in front of the Lambda's resolver.

Each HTTP request becomes an API Gateway REST proxy event (``httpMethod``, ``path``, headers,
query parameters, body — base64 when it is not UTF-8) and goes to the SAME resolver the Lambda
runs (:func:`consumers.ingest_api.handler.create_app`); its proxy response becomes the HTTP
response. Like API Gateway, the adapter refuses a body over the size limit (413) before reading
it. Requests are resolved one at a time: the resolver keeps the current event on itself, as one
Lambda instance handles one event at a time.

    server = serve(settings, port=4570)   # binds settings.local_host (loopback only)
    ...
    server.stop()
"""

from __future__ import annotations

import base64
import ipaddress
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from glucosestream.ingest.api.config import IngestSettings, load_ingest_settings
from glucosestream.ingest.api.service import IngestService
from glucosestream.settings import Settings

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def proxy_event(environ: Environ, body: bytes) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event of a WSGI request."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    path = str(environ.get("PATH_INFO") or "/")
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "local",
            "requestId": uuid.uuid4().hex,
            "identity": {"sourceIp": str(environ.get("REMOTE_ADDR", "127.0.0.1"))},
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


def _json_response(
    start_response: StartResponse, status: int, document: dict[str, Any]
) -> list[bytes]:
    payload = json.dumps(document, separators=(",", ":")).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


class ProxyAdapter:
    """WSGI application: HTTP ↔ API Gateway proxy events, one event at a time."""

    def __init__(self, handler: Handler, max_body_bytes: int) -> None:
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _json_response(
                start_response, 400, {"status": 400, "message": "bad Content-Length"}
            )
        if length > self.max_body_bytes:
            message = f"body of {length} bytes exceeds the {self.max_body_bytes}-byte limit"
            return _json_response(start_response, 413, {"status": 413, "message": message})
        stream = environ["wsgi.input"]
        if length:
            body = stream.read(length)
        elif environ.get("wsgi.input_terminated"):
            # Chunked, no Content-Length: read one byte past the limit, so a body that is too
            # big still reaches the handler's own size check, which answers 413.
            body = stream.read(self.max_body_bytes + 1)
        else:
            body = b""  # no length, not chunked: no body (reading would wait for the client)
        event = proxy_event(environ, body)
        with self._lock:
            result = self.handler(event, None)
        status = int(result["statusCode"])
        headers: list[tuple[str, str]] = []
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, str(value)) for value in values)
        for name, value in (result.get("headers") or {}).items():
            headers.append((name, str(value)))
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [payload]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the handler logs what matters (as JSON, like in Lambda)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class ApiServer:
    """A running local API server; :meth:`stop` shuts it down and joins its thread."""

    host: str
    port: int
    service: IngestService
    _server: BaseWSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    ingest: IngestSettings | None = None,
    *,
    service: IngestService | None = None,
    log_level: str = "WARNING",
) -> ApiServer:
    """Start the API on ``host`` (default ``settings.local_host``; loopback only) and ``port``
    (default ``GS_INGEST_PORT``, 4570; 0 picks a free port) in a background thread.

    ``log_level`` applies to the handler's JSON log (stdout). Raises AuthConfigError for a bad
    key document or a short Nightscout secret, OSError when the port is taken.
    """
    from consumers.ingest_api.handler import build_service, create_app, logger

    # The handler logs a JSON line per refused request, as CloudWatch would receive; on a
    # terminal that is noise unless asked for.
    logger.setLevel(log_level)

    host = host or settings.local_host
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the local API binds a loopback address only, not {host}")
    ingest = ingest or load_ingest_settings()
    service = service or build_service(settings, ingest)
    app = create_app(lambda: service)
    adapter = ProxyAdapter(app.resolve, ingest.max_body_bytes)
    server = make_server(
        host,
        ingest.port if port is None else port,
        adapter,
        threaded=True,
        request_handler=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="ingest-api", daemon=True)
    thread.start()
    return ApiServer(host, server.server_port, service, server, thread)


def start_api(settings: Settings, port: int | None = None) -> ApiServer | None:
    """The API for the demo: started, announced on stdout, or None with the reason printed.

    A bad ingest setting or a busy port must not take the rest of the demo down with it.
    """
    from pydantic import ValidationError

    from glucosestream.ingest.api.auth import AuthConfigError
    from glucosestream.ingest.api.config import LOCAL_API_KEY, LOCAL_NIGHTSCOUT_SECRET

    try:
        ingest = load_ingest_settings()
        server = serve(settings, port=port, ingest=ingest)
    except (ValidationError, AuthConfigError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0]
        print(f"ingest API not served: {reason}", flush=True)
        return None
    line = f"ingest API: {server.url} (POST /v1/readings, Nightscout /api/v1/entries)"
    if settings.mode == "local":
        if ingest.api_keys is None and ingest.api_keys_file is None:
            line += f"; x-api-key {LOCAL_API_KEY}"
        if ingest.nightscout_secret is None:
            line += f"; Nightscout secret {LOCAL_NIGHTSCOUT_SECRET}"
    print(line, flush=True)
    return server
