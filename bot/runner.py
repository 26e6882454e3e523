"""Run the bot until SIGTERM: serve, then stop taking work, drain, hand over, exit in time.

On SIGTERM (or Ctrl-C) the process stops accepting work at once (HTTP: the listener closes;
Socket Mode: the WebSocket closes), lets transfers in flight finish for up to
SHUTDOWN_GRACE_SECONDS minus a margin, hands whatever is left to the next start or another
replica (their leases are released), and exits. A transfer POST already sent is never sent again:
recovery asks Genesys what happened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time

from bot.config import Settings
from bot.logs import configure_logging, print_json_or_text

log = logging.getLogger("bot")


def _fail(settings: Settings, message: str) -> int:
    print_json_or_text([message], json_output=settings.log_format == "json")
    return 2


def run(settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_format, secrets=[
        settings.slack_bot_token, settings.slack_signing_secret, settings.slack_signing_secret_previous,
        settings.slack_app_token, settings.genesys_client_secret,
    ])
    from bot.ports.store import StoreUnavailable
    from bot.wiring import build_runtime

    try:
        runtime = build_runtime(settings)
    except StoreUnavailable as error:
        return _fail(settings, f"The bot can't start: the database is unreachable ({error}). "
                               "Check DATABASE_URL and that the database server is running.")
    demo = runtime.extras.get("demo")
    if demo is not None:
        log.info("Genesys simulator demo org (try /transfer <conversation> <queue>):\n%s", demo.summary())
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    if settings.mode == "socket":
        code = _run_socket(runtime, settings, stopping)
    else:
        code = _run_http(runtime, settings, stopping)
    return code


SDK_WAIT_SECONDS = 3.0
"""How long start-up waits for the Genesys client before it listens (it usually takes under 0.5 s)."""


def _serve(runtime, settings: Settings, *, port: int, with_events: bool):
    from bot.ops.server import create_server, make_ops_app

    # Listen once the Genesys client is built (bounded): the first burst of commands then has the
    # CPU to itself instead of sharing it with the SDK's import (issue 11). If it takes longer
    # (a slow disk), serve anyway: the import yields to acks, and /readyz says it isn't ready.
    wait_ready = getattr(runtime.genesys, "wait_ready", None)
    if wait_ready is not None:
        wait_ready(SDK_WAIT_SECONDS)

    events = runtime.slack.events_wsgi() if with_events and runtime.slack else None
    wsgi = make_ops_app(readiness=runtime.readiness, liveness=runtime.liveness, slack_events=events,
                        before_metrics=runtime.refresh_gauges)
    try:
        server = create_server(wsgi, host=settings.host, port=port, threads=settings.http_threads)
    except OSError as error:
        return None, (f"The bot can't start: {settings.host}:{port} is not available ({error.strerror or error}). "
                      "Stop whatever uses it or set PORT/OPS_PORT to a free port.")
    thread = threading.Thread(target=_quiet_run, args=(server,), name="http-server", daemon=True)
    thread.start()
    return server, None


def _quiet_run(server) -> None:
    # closing the listener ends select() with EBADF: that is the stop signal
    with contextlib.suppress(OSError):
        server.run()


def _run_http(runtime, settings: Settings, stopping: threading.Event) -> int:
    server, problem = _serve(runtime, settings, port=settings.port, with_events=True)
    if problem:
        runtime.stop(grace_seconds=1.0)
        return _fail(settings, problem)
    log.info("HTTP mode: listening on %s:%s (POST /slack/events, GET /healthz /readyz /metrics)",
             settings.host, server.effective_port)
    stopping.wait()
    started = time.monotonic()
    log.info("stopping: no new requests; finishing or handing over work in flight")
    server.close()
    runtime.stop(grace_seconds=_grace_left(settings, started))
    log.info("stopped in %.1f s", time.monotonic() - started)
    _exit_now(0)
    return 0


def _run_socket(runtime, settings: Settings, stopping: threading.Event) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.slack.bolt_app import make_web_client
    from bot.slack.socket_mode import TimedSocketModeHandler

    server, problem = _serve(runtime, settings, port=settings.ops_port, with_events=False)
    if problem:
        runtime.stop(grace_seconds=1.0)
        return _fail(settings, problem)
    # apps.connections.open must go to SLACK_API_URL too (GovSlack), not the SDK's default host.
    opener = make_web_client("", settings.slack_api_url, timeout=10)
    handler = TimedSocketModeHandler(runtime.slack.bolt_app, settings.slack_app_token, web_client=opener)
    try:
        handler.connect()
    except SlackApiError as error:
        reason = error.response.get("error")
        server.close()
        runtime.stop(grace_seconds=1.0)
        return _fail(settings, f"Slack refused the Socket Mode connection ({reason}). Check SLACK_APP_TOKEN: it "
                               "must be an app-level token (xapp-) with the connections:write scope, and Socket "
                               "Mode must be enabled for the app.")
    except OSError as error:
        server.close()
        runtime.stop(grace_seconds=1.0)
        return _fail(settings, f"Could not reach Slack at {settings.slack_api_url} ({_network_cause(error)}). "
                               "This is a network problem, not a token problem: check DNS, proxy and firewall.")
    log.info("Socket Mode: connected; ops server on %s:%s (GET /healthz /readyz /metrics)", settings.host,
             server.effective_port)
    stopping.wait()
    started = time.monotonic()
    log.info("stopping: closing the Socket Mode connection; finishing or handing over work in flight")
    # The SDK's close waits for its own threads (up to a second or more): it runs beside the drain,
    # bounded, so it can't push the exit past SHUTDOWN_GRACE_SECONDS.
    closer = threading.Thread(target=_close_socket, args=(handler,), name="socket-close", daemon=True)
    closer.start()
    closer.join(min(1.0, settings.shutdown_grace_seconds / 4))
    runtime.stop(grace_seconds=_grace_left(settings, started))
    server.close()
    log.info("stopped in %.1f s", time.monotonic() - started)
    _exit_now(0)
    return 0


def _close_socket(handler) -> None:
    try:
        handler.close()
    except Exception as error:  # closing a half-open socket must not block the shutdown
        log.info("socket close: %s", error)


def _grace_left(settings: Settings, started: float) -> float:
    """What is left of SHUTDOWN_GRACE_SECONDS since SIGTERM, for Runtime.stop."""
    return max(0.5, settings.shutdown_grace_seconds - (time.monotonic() - started))


def _network_cause(error: OSError) -> str:
    import socket
    import urllib.error

    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    return type(reason).__name__


def _exit_now(code: int) -> None:
    """Leave without waiting for worker threads still blocked on the network: their work is handed over."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
