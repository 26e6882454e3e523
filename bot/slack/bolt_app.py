"""Build the Bolt App: our listeners, and a Web API client we can point anywhere.

Signatures are verified before Bolt (bot/slack/http_guard.py, which also accepts the previous
signing secret during a rotation and keeps request bodies out of the log), so Bolt's own
verification is off. Socket Mode payloads are not signed; the WebSocket is authenticated.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.deps import SlackDeps
from bot.slack.listeners import register_listeners


def make_web_client(token: str, base_url: str, *, timeout: int = 5) -> WebClient:
    """No retry handlers: delivery.py decides what may be repeated (a lost post is looked up first)."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class _DropClientTokenWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that `client` wins; it does, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_bolt_app(*, client: WebClient, deps: SlackDeps) -> App:
    # Listeners only parse and ack; slow work goes to deps.run_later, so Bolt's pool stays free.
    # It is still larger than Bolt's default of 5 so that a burst of acks never queues.
    bolt_logger = logging.getLogger("bot.slack.bolt")
    bolt_logger.addFilter(_DropClientTokenWarning())
    app = App(
        client=client,
        signing_secret="verified-before-bolt",
        request_verification_enabled=False,
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt-listener"),
        logger=bolt_logger,
    )
    register_listeners(app, deps)
    return app
