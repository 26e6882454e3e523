"""Composition root: settings → adapters → service → Slack app. The only module that knows them all."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.domain.parsing import normalize_queue_name
from bot.domain.policy import ApprovalPolicy
from bot.genesys.background import BackgroundGenesys
from bot.genesys.factory import sdk_factory
from bot.ports.genesys import GenesysPort
from bot.service.queues import QueueDirectory
from bot.service.transfers import TransferService

log = logging.getLogger(__name__)


class Sweeper:
    """Expires pending approvals on a timer. Every replica may run one: expiry is compare-and-set."""

    def __init__(self, service: TransferService, interval_seconds: float) -> None:
        self._service = service
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="approval-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                expired = self._service.expire_due()
                if expired:
                    log.info("expired %d pending approval(s)", len(expired))
                recovered = self._service.recover_stuck()
                if recovered:
                    log.warning("closed %d request(s) abandoned by a stopped bot process", len(recovered))
            except Exception:
                log.exception("approval sweep failed")
            if self._stop.wait(self._interval):
                return

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Runtime:
    settings: Settings
    store: Any
    genesys: BackgroundGenesys
    service: TransferService
    executor: ThreadPoolExecutor
    web_client: Any = None
    bolt_app: Any = None
    simulator: Any = None
    sweeper: Sweeper | None = None
    extras: dict = field(default_factory=dict)

    def health(self) -> dict:
        return {"status": "ok", "genesys": self.genesys.status, "mode": self.settings.mode}

    def close(self, drain_seconds: float = 20.0) -> None:
        """Stop taking work, let transfers already acked finish (bounded), then release resources."""
        if self.sweeper:
            self.sweeper.stop()
        drain = threading.Thread(target=self.executor.shutdown, kwargs={"wait": True}, daemon=True)
        drain.start()
        drain.join(drain_seconds)
        if drain.is_alive():
            log.warning("stopping with transfers still running; their requests are recovered on next start")
        self.store.close()
        if self.simulator is not None:
            self.simulator.stop()


def start_demo_simulator() -> tuple[Any, Any]:
    """Start the built-in simulator with the demo org; returns (simulator, seed)."""
    from bot.simulator import GenesysSimulator, seed_demo

    simulator = GenesysSimulator().start()
    return simulator, seed_demo(simulator)


def build_runtime(
    settings: Settings,
    *,
    with_slack: bool = True,
    simulator: Any = None,
    sweep_interval: float = 15.0,
    genesys_factory: Callable[[], GenesysPort] | None = None,
) -> Runtime:
    from bot.store.sql import open_store

    api_base, login_base = settings.genesys_api_base, settings.genesys_login_base
    client_id, secret = settings.genesys_client_id, settings.genesys_client_secret
    demo = None
    if settings.simulate_genesys:
        if simulator is None:
            simulator, demo = start_demo_simulator()
        api_base = login_base = simulator.url
        client_id, secret = simulator.client_id, simulator.client_secret
        log.info("using the built-in Genesys simulator at %s", simulator.url)

    store = open_store(settings.database_url)
    genesys = BackgroundGenesys(
        genesys_factory
        or sdk_factory(
            api_base=api_base,
            login_base=login_base,
            client_id=client_id,
            client_secret=secret,
            connect_timeout=settings.genesys_connect_timeout,
            read_timeout=settings.genesys_read_timeout,
            rate_limit_per_minute=settings.genesys_rate_limit_per_minute,
            rate_burst=settings.genesys_rate_burst,
            pool_size=max(8, settings.transfer_workers),
        )
    )
    policy = ApprovalPolicy(
        approver_users=settings.approver_users,
        approver_groups=settings.approver_groups,
        no_approval_queues=frozenset(normalize_queue_name(q) for q in settings.no_approval_queues),
    )
    executor = ThreadPoolExecutor(max_workers=settings.transfer_workers, thread_name_prefix="transfer")

    web_client = notifier = approvers = None
    if with_slack:
        from bot.slack.approvers import SlackApproverDirectory
        from bot.slack.bolt_app import make_web_client
        from bot.slack.notifier import SlackNotifier

        web_client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
        notifier = SlackNotifier(web_client, approval_channel=settings.approval_channel)
        approvers = SlackApproverDirectory(
            web_client, users=settings.approver_users, groups=settings.approver_groups
        )
    service = TransferService(
        genesys=genesys,
        store=store,
        queues=QueueDirectory(genesys, ttl_seconds=settings.queue_cache_seconds),
        policy=policy,
        approvers=approvers or _NoApprovers(),
        notifier=notifier,
        approval_ttl_seconds=settings.approval_ttl_seconds,
    )
    runtime = Runtime(
        settings=settings, store=store, genesys=genesys, service=service, executor=executor,
        web_client=web_client, simulator=simulator, extras={"demo": demo},
    )
    if with_slack:
        from bot.slack.bolt_app import build_bolt_app
        from bot.slack.listeners.context import ListenerContext

        ctx = ListenerContext(service=lambda: service, executor=executor)
        runtime.bolt_app = build_bolt_app(client=web_client, signing_secret=settings.slack_signing_secret, ctx=ctx)
        runtime.sweeper = Sweeper(service, sweep_interval).start()
    if policy.enabled:
        log.info(
            "approvals on: %d approver user(s), %d group(s); %d queue(s) need no approval",
            len(policy.approver_users), len(policy.approver_groups), len(policy.no_approval_queues),
        )
    else:
        log.info("approvals off: TRANSFER_APPROVERS is empty, so every /transfer runs directly")
    return runtime


class _NoApprovers:
    def is_approver(self, user_id: str) -> bool:
        return False
