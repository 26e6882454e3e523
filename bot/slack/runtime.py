"""The Slack side, assembled: Web API client, delivery, reconciler, Home, people, identity, Bolt.

Built in two steps because the service needs the reconciler (its Notifier) and the listeners
need the service: `SlackRuntime(...)` first, then `attach(service, …)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings
from bot.ports.clock import Clock
from bot.ports.replay_key import first_time_so_far
from bot.ports.store import StoreUnavailable
from bot.ports.urgency import after_acks, yield_to_awaited
from bot.slack.bolt_app import build_bolt_app, make_web_client
from bot.slack.delivery import SlackDelivery
from bot.slack.deps import SlackDeps
from bot.slack.home import SlackHome
from bot.slack.http_guard import SlackRequestGuard
from bot.slack.identity import SlackIdentity
from bot.slack.people import SlackPeople
from bot.slack.reconciler import Reconciler

log = logging.getLogger(__name__)
SLACK_HOOKS_HOST = "hooks.slack.com"


class SlackRuntime:
    def __init__(self, settings: Settings, *, store: Any, clock: Clock, owner: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
        self.state = store.slack_state()
        self.delivery = SlackDelivery(self.client, response_url_ok=self.response_url_ok)
        self.people = SlackPeople(self.client)
        self.identity = SlackIdentity(self.client)
        self.identity.learn_in_background()
        self.home = SlackHome(store=store, state=self.state, delivery=self.delivery, is_member=self.people.is_member,
                              is_approver=self.is_approver, now=clock.now)
        self.reconciler = Reconciler(store=store, state=self.state, delivery=self.delivery,
                                     approval_channel=settings.approval_channel, owner=owner or "slack",
                                     now=clock.now, on_change=self.home.refresh_for)
        self.service = None
        self.bolt_app = None
        # What follows an ack (views.open while the trigger is fresh, small bookkeeping): short
        # Slack and database calls, so a few threads; Socket Mode and HTTP share it.
        self.after_ack_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-after-ack")
        self._api_parts = urlsplit(settings.slack_api_url)
        self.rule_approvers: frozenset[str] = frozenset().union(
            *(r.approvers or frozenset() for r in settings.policy_rules))

    def attach(self, service: Any, queues: Any, executor: Any) -> None:
        self.service = service
        self.reconciler.owner = service.ctx.instance_id
        self.reconciler.undeliverable = service.undeliverable
        deps = SlackDeps(
            service=service, queues=queues,
            run_later=lambda fn, *a, **kw: _unless_replayed(
                lambda: after_acks(lambda: executor.submit(_guarded, fn, *a, **kw))),
            after_ack=lambda fn, *a, **kw: _unless_replayed(
                lambda: self.after_ack_pool.submit(_guarded, fn, *a, **kw)),
            delivery=self.delivery, state=self.state, home=self.home, people=self.people,
            is_approver=self.is_approver, may_see_number=lambda user, r: self.people.is_member(user, r.approvers),
            now=self.clock.now, response_url_ok=self.response_url_ok,
        )
        self.bolt_app = build_bolt_app(client=self.client, deps=deps, identity=self.identity,
                                       after_ack_pool=self.after_ack_pool)

    def events_wsgi(self) -> Any:
        """POST /slack/events for HTTP mode: the guard, then Bolt."""
        from slack_bolt.adapter.wsgi import SlackRequestHandler

        bolt = SlackRequestHandler(self.bolt_app, path="/slack/events")
        secrets = [self.settings.slack_signing_secret, self.settings.slack_signing_secret_previous]
        return SlackRequestGuard(bolt, signing_secrets=secrets, replay=self.store.replay_guard(),
                                 identity=self.identity, now=self.clock.now)

    def is_approver(self, user: str) -> bool:
        ids = self.settings.approvers | self.rule_approvers
        return bool(ids) and self.people.is_member(user, ids)

    def response_url_ok(self, url: str) -> bool:
        """Only Slack's hooks host (or SLACK_API_URL's host, for GovSlack and tests) over https/http."""
        parts = urlsplit(url)
        if parts.hostname == SLACK_HOOKS_HOST and parts.scheme == "https":
            return True
        api = self._api_parts
        return parts.hostname == api.hostname and parts.port == api.port and parts.scheme == api.scheme

    def auth_check(self) -> str | None:
        return None if self.identity.learn() is not None else (self.identity.error or "auth.test failed")

    def housekeeping(self) -> None:
        now = self.clock.now()
        self.state.forget_expired_response_urls(now)
        self.store.replay_guard().purge(now - timedelta(minutes=1))

    def stop(self, timeout: float = 1.0) -> None:
        self.reconciler.close(timeout)


def _unless_replayed(hand_over: Callable[[], object]) -> object:
    """Hand work over unless the Slack request being served is a replay (bot.ports.replay_key)."""
    if not first_time_so_far():
        return None
    return hand_over()


def _guarded(fn, *args, **kwargs):
    yield_to_awaited()  # let a burst of acks finish before this job takes the CPU
    try:
        return fn(*args, **kwargs)
    except StoreUnavailable:
        return None  # logged where it happened; recovery resumes the request
    except Exception:
        log.exception("background work %s failed", getattr(fn, "__name__", fn))
        return None
