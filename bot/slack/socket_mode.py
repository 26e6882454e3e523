"""Socket Mode, with each ack timed from the envelope's arrival on the socket to the ack being sent.

Bolt's SocketModeHandler times nothing. The SDK's client reads a frame, queues it, and a small
worker pool runs Bolt on it; under a burst the wait for a free worker is part of what Slack sees,
so the clock starts when the frame is queued (the receive thread), not when a worker picks it up.
The same histogram (transferbot_slack_ack_seconds) is observed in HTTP mode by the request guard.
"""

from __future__ import annotations

import threading
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.ops.metrics import SLACK_ACK_SECONDS
from bot.ports.urgency import awaited

_MAX_WAITING = 10_000  # envelopes queued but not yet picked up; beyond this, something else is wrong
_worker = threading.local()


class _ArrivalTimedClient(SocketModeClient):
    """Notes when each envelope arrived, and hands that time to the worker that runs it."""

    def __init__(self, *args, **kwargs) -> None:
        self._arrivals: dict[str, float] = {}
        self._arrivals_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def enqueue_message(self, message: str) -> None:
        if '"envelope_id"' in message:
            with self._arrivals_lock:
                if len(self._arrivals) >= _MAX_WAITING:
                    self._arrivals.clear()
                self._arrivals[message] = time.perf_counter()
        super().enqueue_message(message)

    def run_message_listeners(self, message: dict, raw_message: str) -> None:
        with self._arrivals_lock:
            _worker.arrived = self._arrivals.pop(raw_message, None)
        try:
            super().run_message_listeners(message, raw_message)
        finally:
            _worker.arrived = None


class TimedSocketModeHandler(BaseSocketModeHandler):
    """Bolt's built-in SocketModeHandler (same client, same defaults), plus the ack histogram."""

    def __init__(self, app: App, app_token: str, *, web_client: WebClient) -> None:
        self.app = app
        self.app_token = app_token
        self.client = _ArrivalTimedClient(
            app_token=app_token, logger=app.logger, web_client=web_client, proxy=web_client.proxy,
            ping_interval=10,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = getattr(_worker, "arrived", None) or time.perf_counter()
        with awaited():  # background work yields until this ack is sent (bot.ports.urgency)
            response = run_bolt_app(self.app, req)
            send_response(client, req, response, time.time() - (time.perf_counter() - started))  # wall clock there
        if response.status == 200:  # an ack was written
            SLACK_ACK_SECONDS.observe(time.perf_counter() - started)
