"""HTTP mode: Slack posts to /slack/events; /healthz for load balancers. Served by waitress.

waitress is a production WSGI server with a thread pool, unlike Bolt's single-threaded
development server (App.start), which the Bolt docs say not to use in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"


def make_wsgi_app(app: App, health: Callable[[], dict]) -> Callable:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            report = health()
            body = json.dumps(report).encode()
            status = "200 OK" if report.get("status") == "ok" else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        body = b"Not Found"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def create_http_server(wsgi: Callable, *, host: str, port: int, threads: int):
    """Returns a waitress server; call .run() to serve, .close() to stop. port=0 picks a free port."""
    from waitress import create_server

    return create_server(wsgi, host=host, port=port, threads=threads, ident="transfer-bot", connection_limit=1000)
