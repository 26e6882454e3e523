"""Build the Bolt App: our listeners, and a Web API client we can point anywhere.

Signatures are verified before Bolt (bot/slack/http_guard.py, which also accepts the previous
signing secret during a rotation and keeps request bodies out of the log), so Bolt's own
verification is off. Socket Mode payloads are not signed; the WebSocket is authenticated.

Authorization comes from our own authorize function, not Bolt's single-team middleware: that
middleware calls auth.test on the first request (every concurrent first request calls it), on
the ack path, and answers 500 when Slack fails it, so the first /transfer after a deploy could be
lost to a Slack hiccup. We already learn who we are with auth.test at start (identity.py, which
readiness waits for); the ack path needs no network call.

Listeners run in the HTTP request's own thread (process_before_response): Bolt's default runs
each one on its listener pool while the request thread polls for the ack every 10 ms. Measured
on the start burst (50 /transfer at once on 2 cores, issue 11): the slowest ack went from ~80 to
~67 ms, because the hand-over and the polling cost GIL time and each ack waited for the next
10 ms tick. The price: Slack gets the ack only when the listener returns, so work that follows
an ack goes to deps.after_ack (a pool) instead of running in the listener.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.slack.deps import SlackDeps
from bot.slack.identity import SlackIdentity
from bot.slack.listeners import register_listeners


def make_web_client(token: str, base_url: str, *, timeout: int = 5) -> WebClient:
    """No retry handlers: delivery.py decides what may be repeated (a lost post is looked up first)."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class _DropClientTokenWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and warns that `client` wins; it does, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _authorizer(token: str | None, identity: SlackIdentity):
    def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        known = identity.known
        return AuthorizeResult(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token,
            bot_user_id=known.bot_user_id if known else None, bot_id=known.bot_id if known else None,
        )

    return authorize


def build_bolt_app(*, client: WebClient, deps: SlackDeps, identity: SlackIdentity, after_ack_pool: Executor) -> App:
    # Listeners only parse and ack, in the request's thread; what follows an ack goes to
    # deps.after_ack, slow work to deps.run_later. Bolt would use its executor only for lazy
    # listeners (we have none); it gets the after-ack pool so that it starts no pool of its own.
    bolt_logger = logging.getLogger("bot.slack.bolt")
    bolt_logger.addFilter(_DropClientTokenWarning())
    # Bolt gets a token-less copy of the client, so it uses `authorize` (see the module docstring);
    # each request's client gets the bot token from the AuthorizeResult.
    tokenless = WebClient(token=None, base_url=client.base_url, timeout=client.timeout, retry_handlers=[])
    app = App(
        client=tokenless,
        authorize=_authorizer(client.token, identity),
        signing_secret="verified-before-bolt",
        request_verification_enabled=False,
        token_verification_enabled=False,
        listener_executor=after_ack_pool,
        process_before_response=True,
        logger=bolt_logger,
    )
    register_listeners(app, deps)
    return app
