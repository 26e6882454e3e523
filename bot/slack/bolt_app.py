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


class _DropClientTokenWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that `client` wins; it does, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_bolt_app(*, client: WebClient, signing_secret: str, ctx: ListenerContext) -> App:
    # Listeners only parse and ack; slow work goes to ctx.executor, so Bolt's pool stays free.
    # It is still larger than Bolt's default of 5 so that a burst of acks never queues.
    bolt_logger = logging.getLogger("bot.slack.bolt")
    bolt_logger.addFilter(_DropClientTokenWarning())
    app = App(
        client=client,
        signing_secret=signing_secret or "socket-mode-does-not-sign",
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt-listener"),
        logger=bolt_logger,
    )
    register_listeners(app, ctx)
    return app
