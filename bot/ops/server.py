"""The bot's one HTTP server, in both Slack modes: /healthz, /readyz, /metrics, and in HTTP
mode /slack/events too. waitress is a production multi-threaded WSGI server (Bolt's own
development server is single-threaded and not meant for production)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.ops.health import Readiness
from bot.ops.metrics import REGISTRY

EVENTS_PATH = "/slack/events"


def _send(start_response: Callable, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def make_ops_app(
    *,
    readiness: Readiness,
    liveness: Callable[[], dict],
    slack_events: Callable | None = None,
    before_metrics: Callable[[], None] = lambda: None,
) -> Callable:
    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and slack_events is not None:
            return slack_events(environ, start_response)
        if method not in ("GET", "HEAD"):
            return _send(start_response, "405 Method Not Allowed", b"method not allowed", "text/plain")
        if path == "/healthz":
            return _send(start_response, "200 OK", json.dumps(liveness()).encode(), "application/json")
        if path == "/readyz":
            ok, report = readiness.report()
            status = "200 OK" if ok else "503 Service Unavailable"
            return _send(start_response, status, json.dumps(report).encode(), "application/json")
        if path == "/metrics":
            before_metrics()
            return _send(start_response, "200 OK", generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        return _send(start_response, "404 Not Found", b"not found", "text/plain")

    return wsgi


def create_server(wsgi: Callable, *, host: str, port: int, threads: int):
    """A waitress server; .run() serves, .close() stops accepting. port=0 picks a free port."""
    from waitress import create_server as waitress_server

    return waitress_server(wsgi, host=host, port=port, threads=threads, ident="transfer-bot",
                           connection_limit=1000, max_request_body_size=2 * 1024 * 1024)
