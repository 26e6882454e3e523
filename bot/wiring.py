"""Composition root: settings → adapters → service → Slack → ops. It only wires.

The only module that knows every layer. Each factory below builds one part from the settings;
`build_runtime` puts them together and `Runtime.stop` takes them apart in order.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.config import Settings
from bot.domain.parsing import normalize_queue_name
from bot.domain.policy import Policy
from bot.ops.health import Check, Readiness
from bot.ops.metrics import APPROVALS_PENDING, CONFIRMATIONS_PENDING
from bot.ports.clock import SystemClock
from bot.service.context import Context, ServiceConfig
from bot.service.queues import QueueDirectory
from bot.service.sweeper import Sweeper, fan_out
from bot.service.transfers import TransferService

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Any
    genesys: Any
    service: TransferService
    executor: ThreadPoolExecutor
    sweeper: Sweeper
    readiness: Readiness
    slack: Any = None  # SlackRuntime when Slack is wired
    simulator: Any = None
    extras: dict = field(default_factory=dict)

    def liveness(self) -> dict:
        return {"status": "ok", "mode": self.settings.mode, "genesys": self.genesys.status}

    def refresh_gauges(self) -> None:
        """Gauges come from the shared store, so every replica reports the same, right numbers."""
        from bot.domain.request import RequestState

        try:
            counts = self.store.count_by_state()
        except Exception as error:
            log.info("gauges not refreshed: %s", error)
            return
        APPROVALS_PENDING.set(counts.get(RequestState.PENDING, 0))
        CONFIRMATIONS_PENDING.set(counts.get(RequestState.ACCEPTED, 0))

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop background work, let in-flight transfers finish (bounded), hand the rest over."""
        grace = self.settings.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        # 1.5 s are kept for the hand-over, the Slack side and the database; the rest is shared by
        # the sweeper (its current sweep) and the drain, so together they never exceed the grace.
        deadline = time.monotonic() + max(0.5, grace - 1.5)
        self.sweeper.stop(timeout=max(0.0, min(2.0, deadline - time.monotonic())))
        drain = threading.Thread(target=self.executor.shutdown, kwargs={"wait": True, "cancel_futures": False},
                                 daemon=True)
        drain.start()
        drain.join(max(0.0, deadline - time.monotonic()))
        if drain.is_alive():
            # Work not started yet stays stored (received/approved): the next start or a replica resumes it.
            self.executor.shutdown(wait=False, cancel_futures=True)
            log.warning("stopping with transfers still in flight; another replica or the next start finishes them")
        try:
            handed = self.service.hand_over()
            if handed:
                log.info("handed %d request(s) over for recovery", handed)
        except Exception as error:
            log.warning("could not hand requests over (%s); their leases expire on their own", error)
        if self.slack is not None:
            self.slack.stop(timeout=1.0)
        self.store.close()
        if self.simulator is not None:
            self.simulator.stop()


def build_policy(settings: Settings) -> Policy:
    return Policy(
        default_approvers=settings.approvers,
        no_approval_queues=frozenset(normalize_queue_name(q) for q in settings.no_approval_queues),
        external_prefixes=settings.external_prefixes,
        external_no_approval=settings.external_no_approval,
        rules=settings.policy_rules,
    )


def build_genesys(settings: Settings, *, simulator: Any = None, rate_budget: Any = None):
    from bot.genesys.background import BackgroundGenesys
    from bot.genesys.factory import sdk_factory

    api_base, login_base = settings.genesys_api_base, settings.genesys_login_base
    client_id, secret = settings.genesys_client_id, settings.genesys_client_secret
    if simulator is not None:
        api_base = login_base = simulator.url
        client_id, secret = simulator.client_id, simulator.client_secret
    return BackgroundGenesys(sdk_factory(
        api_base=api_base, login_base=login_base, client_id=client_id, client_secret=secret,
        connect_timeout=settings.genesys_connect_timeout, read_timeout=settings.genesys_read_timeout,
        request_deadline=settings.genesys_request_deadline,
        rate_limit_per_minute=settings.genesys_rate_limit_per_minute, rate_burst=settings.genesys_rate_burst,
        pool_size=max(8, settings.transfer_workers), rate_budget=rate_budget,
    ))


def start_demo_simulator() -> tuple[Any, Any]:
    from bot.simulator import GenesysSimulator, seed_demo

    simulator = GenesysSimulator().start()
    return simulator, seed_demo(simulator)


def build_runtime(
    settings: Settings,
    *,
    with_slack: bool = True,
    simulator: Any = None,
    sweep_interval: float = 1.0,
    genesys: Any = None,
    background: bool = True,
) -> Runtime:
    """background=False (the command line): no sweeper, so this process never takes over others' work."""
    from bot.store import open_store

    demo = None
    if settings.simulate_genesys and simulator is None and genesys is None:
        simulator, demo = start_demo_simulator()
        log.info("using the built-in Genesys simulator at %s", simulator.url)
    store = open_store(settings.database_url)
    genesys = genesys or build_genesys(settings, simulator=simulator, rate_budget=store.rate_budget())
    executor = ThreadPoolExecutor(max_workers=settings.transfer_workers, thread_name_prefix="transfer")
    clock = SystemClock()
    queues = QueueDirectory(genesys, ttl_seconds=settings.queue_cache_seconds)
    slack = None
    people: Any = _NoPeople()
    if with_slack:
        from bot.slack.runtime import SlackRuntime

        slack = SlackRuntime(settings, store=store, clock=clock)
        store.prepare_ack_writes()
        people = slack.people
    extra = {"notifier": slack.reconciler} if slack else {}
    ctx = Context(
        genesys=genesys, store=store, people=people, policy=build_policy(settings), clock=clock, queues=queues,
        **extra,
        config=ServiceConfig(
            approval_ttl=timedelta(seconds=settings.approval_ttl_seconds),
            confirm_timeout=timedelta(seconds=settings.confirm_timeout_seconds),
            retention=timedelta(days=settings.retention_days),
            external_prefixes=settings.external_prefixes,
            simulated=settings.simulate_genesys,
        ),
    )
    service = TransferService(ctx)
    sweeper = build_sweeper(service, executor, queues, sweep_interval)
    readiness = Readiness(build_checks(store, genesys, slack))
    runtime = Runtime(settings, store, genesys, service, executor, sweeper, readiness, slack, simulator,
                      {"demo": demo})
    if slack is not None:
        slack.attach(service, queues, executor)
        sweeper.add("slack-sync", slack.reconciler.sweep, every=max(sweep_interval, 1.0))
        sweeper.add("slack-housekeeping", slack.housekeeping, every=60.0)
    sweeper.add("gauges", runtime.refresh_gauges, every=5.0)
    _log_policy(settings)
    if background:
        sweeper.start()
    return runtime


def build_sweeper(service: TransferService, executor: ThreadPoolExecutor, queues: QueueDirectory,
                  interval: float) -> Sweeper:
    sweeper = Sweeper()
    sweeper.add("heartbeat", service.heartbeat, every=5.0)
    sweeper.add("recovery", lambda: fan_out(executor, service.abandoned(), service.recover), every=interval)
    sweeper.add("confirmations", lambda: fan_out(executor, service.due_checks(), service.check),
                every=min(interval, 0.5))
    sweeper.add("expiry", service.expire_due, every=interval)
    sweeper.add("retention", service.purge_old, every=600.0)
    sweeper.add("queue-health", queues.refresh_health, every=5.0)
    sweeper.add("queue-catalog", lambda: queues.catalog(wait=False), every=60.0)
    return sweeper


def build_checks(store: Any, genesys: Any, slack: Any) -> list[Check]:
    def database() -> str | None:
        store.ping()
        return None

    def genesys_ready() -> str | None:
        if genesys.status == "loading":
            return "the Genesys client is still loading"
        if genesys.status == "failed":
            return "the Genesys client failed to start"
        genesys.check_access()
        return None

    checks = [Check("database", database), Check("genesys", genesys_ready, cache_seconds=10.0)]
    if slack is not None:
        checks.append(Check("slack", slack.auth_check))
    return checks


def _log_policy(settings: Settings) -> None:
    if settings.approvers or settings.policy_rules:
        log.info("approvals on: %d approver user(s), %d group(s), %d rule(s); %d queue(s) need no approval",
                 len(settings.approver_users), len(settings.approver_groups), len(settings.policy_rules),
                 len(settings.no_approval_queues))
    else:
        log.info("approvals off: TRANSFER_APPROVERS is empty and no rules file, so every /transfer runs directly")


class _NoPeople:
    """The command line has no Slack: nobody is in any group, and no email can be looked up."""

    def is_member(self, user_id: str, ids) -> bool:
        return user_id in set(ids)

    def email_of(self, user_id: str) -> str:
        from bot.domain.problems import Code, Problem

        raise Problem(Code.CHAT_USER_UNKNOWN, {"chat_user": user_id})

