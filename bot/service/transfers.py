"""The use cases behind one object: what Slack, the command line and the sweeper call.

Every transfer — direct, approved, from Slack or the command line — is a stored request moved
by compare-and-set, so a double click, a replayed command, a second replica or a restart
cannot send the Genesys POST twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

from bot.domain.request import Ask, RequestState, TransferRequest, Via
from bot.logs import log_context
from bot.ports.store import StoreUnavailable
from bot.ports.urgency import yield_to_awaited
from bot.service.context import Context
from bot.service.decisions import ClickResult, Decisions
from bot.service.execution import Execution
from bot.service.intake import Intake
from bot.service.recovery import Recovery

log = logging.getLogger(__name__)
PURGE_BATCH = 500
PURGE_BUDGET_SECONDS = 5.0
S = RequestState


class TransferService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.execution = Execution(ctx)
        self.intake = Intake(ctx, self._execute_leased)
        self.decisions = Decisions(ctx, self.execution, self.intake)
        self.recovery = Recovery(ctx, self.intake, self.execution)
        # Work that stopped because the database was unavailable: its lease is still ours, and the
        # heartbeat would keep it so forever. Given back as soon as the database answers again.
        self._dropped: set[str] = set()
        self._dropped_lock = threading.Lock()

    # ---- arriving requests --------------------------------------------------------------------

    def receive(self, ask: Ask, requester: str, *, origin: str | None = None, via: Via = Via.CHAT,
                simulated: bool = False) -> TransferRequest:
        """Durable before the ack: one insert, nothing else (see Intake.receive)."""
        return self.intake.receive(ask, requester, origin=origin, via=via, simulated=simulated)

    def process(self, request_id: str, *, operator: bool = False) -> TransferRequest | None:
        with self._working(request_id):
            return self.intake.process(request_id, operator=operator)

    def submit(self, ask: Ask, requester: str, *, origin: str | None = None, via: Via = Via.CHAT,
               operator: bool = False, simulated: bool = False) -> TransferRequest | None:
        """receive + process in one go (the command line, tests)."""
        request = self.receive(ask, requester, origin=origin, via=via, simulated=simulated)
        return self.process(request.id, operator=operator)

    def _execute_leased(self, request: TransferRequest) -> TransferRequest | None:
        return self.execution.execute(request)

    # ---- clicks -------------------------------------------------------------------------------

    def approve(self, request_id: str, clicker: str) -> ClickResult:
        with self._working(request_id):
            return self.decisions.approve(request_id, clicker)

    def deny(self, request_id: str, clicker: str) -> ClickResult:
        return self.decisions.deny(request_id, clicker)

    def cancel(self, request_id: str, clicker: str) -> ClickResult:
        return self.decisions.cancel(request_id, clicker)

    def operator_cancel(self, request_id: str, operator: str) -> ClickResult:
        return self.decisions.operator_cancel(request_id, operator)

    def pick(self, request_id: str, conversation_id: str, clicker: str) -> ClickResult:
        """Make (and store) the new request for the picked call; the caller then `process`es it."""
        return self.decisions.pick(request_id, conversation_id, clicker)

    def undeliverable(self, request_id: str, error: str, channel: str | None = None) -> TransferRequest | None:
        """The approval message can't be posted: withdraw the request rather than leave it unseen."""
        from bot.domain.problems import Code, Problem

        request = self.ctx.store.get(request_id)
        if request is None:
            return None
        problem = Problem(Code.APPROVAL_POST_FAILED, {"error": error[:100], "channel": channel})
        return self.ctx.move(request, [S.PENDING], S.CANCELLED, changes={"problem": problem}, reason=problem.code.value)

    # ---- background duties (the sweeper calls these) --------------------------------------------

    def expire_due(self) -> list[TransferRequest]:
        return self.decisions.expire_due()

    def abandoned(self, limit: int = 50) -> list[TransferRequest]:
        """Take over requests whose process stopped; each is then handed to `recover`."""
        ctx = self.ctx
        return ctx.store.claim_abandoned(ctx.instance_id, ctx.now(), ctx.lease_until(), limit)

    def recover(self, request: TransferRequest) -> TransferRequest | None:
        with self._working(request.id):
            return self.recovery.recover(request)

    def due_checks(self, limit: int = 50) -> list[TransferRequest]:
        ctx = self.ctx
        return ctx.store.claim_due_checks(ctx.instance_id, ctx.now(), ctx.lease_until(), limit)

    def check(self, request: TransferRequest) -> TransferRequest | None:
        with self._working(request.id):
            return self.execution.check(request)

    def heartbeat(self) -> int:
        ctx = self.ctx
        with self._dropped_lock:
            dropped = sorted(self._dropped)
        for request_id in dropped:
            ctx.store.release(request_id, ctx.instance_id, at=ctx.now())
            with self._dropped_lock:
                self._dropped.discard(request_id)
            log.info("request %s handed to recovery now that the database answers again", request_id)
        return ctx.store.renew_leases(ctx.instance_id, ctx.lease_until())

    def purge_old(self, *, batch: int = PURGE_BATCH, budget_seconds: float = PURGE_BUDGET_SECONDS) -> int:
        """Purge finished requests past retention: batches until the backlog is gone or the budget is spent.

        One batch per sweep (every 10 minutes) would take days to clear the backlog of an old
        database; each batch is still one short transaction, and chat acks go first between them.
        """
        ctx = self.ctx
        cutoff = ctx.now() - ctx.config.retention
        started, total = time.monotonic(), 0
        while True:
            purged = ctx.store.purge_finished_before(cutoff, batch=batch)
            total += purged
            if purged < batch or time.monotonic() - started >= budget_seconds:
                return total
            yield_to_awaited()

    def hand_over(self) -> int:
        """Shutting down: give every lease back, so another replica (or the next start) resumes.

        Not at once: a POST this process sent a moment ago may still be landing in Genesys, and
        recovery must see its outcome, not its absence. One lease period covers any request's deadline.
        """
        ctx = self.ctx
        return ctx.store.release_all(ctx.instance_id, ctx.now() + ctx.config.lease)

    # ---- reading --------------------------------------------------------------------------------

    def get(self, request_id: str) -> TransferRequest | None:
        return self.ctx.store.get(request_id)

    @contextlib.contextmanager
    def _working(self, request_id: str) -> Iterator[None]:
        """If the work dies half-way, hand the request to recovery at once instead of holding it.

        Every log line written meanwhile (in this thread) carries the request id."""
        with self._dropped_lock:
            self._dropped.discard(request_id)
        with log_context(request_id=request_id):
            try:
                yield
            except StoreUnavailable as error:
                log.warning("work on request %s stopped, the database is unavailable (%s); recovery resumes it",
                            request_id, error)
                with self._dropped_lock:
                    self._dropped.add(request_id)
                raise
            except Exception:
                log.exception("work on request %s failed; handing it to recovery", request_id)
                with contextlib.suppress(Exception):
                    self.ctx.store.release(request_id, self.ctx.instance_id, at=self.ctx.now())
                raise
