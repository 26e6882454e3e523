"""Build the Bolt App: real signature checks, our listeners, and a Web API client we can point anywhere."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.slack.listeners import register_listeners
from bot.slack.listeners.context import ListenerContext


def make_web_client(token: str, base_url: str) -> WebClient:
    """slack_sdk retries only connection errors by default; also honour Slack's 429 Retry-After."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def build_bolt_app(*, client: WebClient, signing_secret: str, ctx: ListenerContext) -> App:
    # Listeners only parse and ack; slow work goes to ctx.executor, so Bolt's pool stays free.
    # It is still larger than Bolt's default of 5 so that a burst of acks never queues.
    app = App(
        client=client,
        signing_secret=signing_secret or "socket-mode-does-not-sign",
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt-listener"),
        logger=logging.getLogger("bot.slack.bolt"),
    )
    register_listeners(app, ctx)
    return app
