"""Use cases: request, approve, deny, cancel, expire and execute a transfer.

Every transfer, direct or approved, is a stored request moved by compare-and-set, so a double
click, a second replica or a retried command cannot send the Genesys POST twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import RequestState, TransferRequest
from bot.domain.policy import ApprovalPolicy, ClickVerdict, may_cancel, may_decide
from bot.domain.rules import (
    NotTransferable,
    TransferStatus,
    assess_call,
    current_queue_id,
    snapshot,
    still_same_call,
    transfer_status,
)
from bot.genesys.errors import GenesysError
from bot.genesys.port import GenesysPort, Priority
from bot.service.ports import ApproverDirectory, Ending, Notifier
from bot.service.problems import Problem, from_genesys, refused
from bot.service.queues import QueueDirectory
from bot.store.port import ConversationBusy, RequestStore

log = logging.getLogger(__name__)
S = RequestState
SYSTEM = "system"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Origin:
    """Where a request came from, so replies go back to the right place."""

    channel_id: str | None = None
    team_id: str | None = None
    response_url: str | None = None


@dataclass(frozen=True)
class ClickResult:
    """What the clicker should see privately.

    `ending` is set when this click finished the request; `finished` when it was already over
    (the chat layer renders "already approved by @x at 10:02" from it).
    """

    message: str
    ending: Ending | None = None
    finished: TransferRequest | None = None


@dataclass
class VerifySettings:
    attempts: int = 3
    interval_seconds: float = 0.4


class TransferService:
    def __init__(
        self,
        *,
        genesys: GenesysPort,
        store: RequestStore,
        queues: QueueDirectory,
        policy: ApprovalPolicy,
        approvers: ApproverDirectory,
        notifier: Notifier | None,
        approval_ttl_seconds: int = 900,
        verify: VerifySettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.genesys = genesys
        self.store = store
        self.queues = queues
        self.policy = policy
        self.approvers = approvers
        self.notifier = notifier
        self.approval_ttl = timedelta(seconds=approval_ttl_seconds)
        self.verify_settings = verify or VerifySettings()
        self.clock = clock
        self.sleep = sleep

    # ---- request -------------------------------------------------------------------------

    def submit(
        self, *, requester: str, conversation_id: str, queue_name: str, origin: Origin | None = None
    ) -> Ending:
        """Validate, then either transfer now or post an approval request.

        Raises Problem when nothing was started. Returns the request in its final state for a
        direct transfer, or in `pending` when it waits for a supervisor.
        """
        origin = origin or Origin()
        call = self._read_call(conversation_id, during="reading the call")
        verdict = assess_call(call)
        if isinstance(verdict, NotTransferable):
            raise refused(verdict)
        queue = self.queues.resolve(queue_name)
        needs_approval = self.policy.needs_approval(
            requester_is_approver=self.policy.enabled and self.approvers.is_approver(requester),
            queue_name=queue.name,
        )
        now = self.clock()
        # Supervisors see the call's current queue by name; a direct transfer skips that lookup.
        current = self.queues.name_of(current_queue_id(call, verdict.agent)) if needs_approval else None
        snap = snapshot(call, verdict.agent, current)
        request = TransferRequest(
            id=uuid.uuid4().hex,
            conversation_id=conversation_id,
            queue_id=queue.id,
            queue_name=queue.name,
            requester_id=requester,
            state=S.PENDING if needs_approval else S.APPROVED,
            created_at=now,
            expires_at=now + self.approval_ttl if needs_approval else None,
            snapshot=snap,
            channel_id=origin.channel_id,
            team_id=origin.team_id,
            response_url=origin.response_url,
            acted_by=None if needs_approval else requester,
            acted_at=None if needs_approval else now,
            needs_approval=needs_approval,
        )
        try:
            self.store.add(request, actor=requester)
        except ConversationBusy as busy:
            raise _busy(busy.existing) from busy
        if not needs_approval:
            return self.execute(request)
        return self._post_for_approval(request)

    def _post_for_approval(self, request: TransferRequest) -> Ending:
        if self.notifier is None:
            raise Problem("no_notifier", "This transfer needs a supervisor's approval, which needs Slack.")
        try:
            channel, ts = self.notifier.post_approval_request(request)
        except Exception as error:  # the chat side failed: don't leave a request nobody can see
            log.warning("posting approval request %s failed: %s", request.id, error)
            self.store.transition(
                request.id, [S.PENDING], S.CANCELLED, actor=SYSTEM, at=self.clock(),
                detail=f"approval message could not be posted: {error}", record_actor=False,
            )
            raise Problem(
                "approval_post_failed",
                f"I couldn't post the approval request ({error}). Nothing was transferred.",
                "Invite the bot to the approval channel (or set TRANSFER_APPROVAL_CHANNEL) and try again.",
            ) from error
        self.store.set_message(request.id, channel, ts)
        stored = self.store.get(request.id)
        return Ending(stored or request)

    # ---- clicks --------------------------------------------------------------------------

    def approve(self, request_id: str, clicker: str) -> ClickResult:
        refusal = self._refuse_click(request_id, clicker, self._decider_verdict)
        if refusal:
            return refusal
        approved = self.store.transition(request_id, [S.PENDING], S.APPROVED, actor=clicker, at=self.clock())
        if approved is None:
            return self._already(request_id)
        ending = self._recheck_and_execute(approved, clicker)
        self._announce(ending)
        return ClickResult(_ending_summary(ending), ending)

    def deny(self, request_id: str, clicker: str) -> ClickResult:
        refusal = self._refuse_click(request_id, clicker, self._decider_verdict)
        if refusal:
            return refusal
        return self._finish_click(request_id, S.DENIED, clicker, "Denied. The requester has been told.")

    def cancel(self, request_id: str, clicker: str) -> ClickResult:
        refusal = self._refuse_click(
            request_id, clicker, lambda request, who: may_cancel(clicker=who, requester=request.requester_id)
        )
        if refusal:
            return refusal
        return self._finish_click(request_id, S.CANCELLED, clicker, "Cancelled. Nothing was transferred.")

    def _decider_verdict(self, request: TransferRequest, clicker: str) -> ClickVerdict:
        return may_decide(
            clicker=clicker, requester=request.requester_id, clicker_is_approver=self.approvers.is_approver(clicker)
        )

    def _refuse_click(
        self, request_id: str, clicker: str, rule: Callable[[TransferRequest, str], ClickVerdict]
    ) -> ClickResult | None:
        """None when the click may proceed; otherwise what the clicker is told (nothing changes)."""
        request = self.store.get(request_id)
        if request is None:
            return ClickResult("I can't find that request any more.")
        if request.state is not S.PENDING:
            return ClickResult(describe_finished(request), finished=request)
        verdict = rule(request, clicker)
        if verdict is not ClickVerdict.ALLOWED:
            return ClickResult(_click_refusal(verdict))
        return None

    def _finish_click(self, request_id: str, state: RequestState, clicker: str, message: str) -> ClickResult:
        done = self.store.transition(request_id, [S.PENDING], state, actor=clicker, at=self.clock())
        if done is None:
            return self._already(request_id)
        ending = Ending(done)
        self._announce(ending)
        return ClickResult(message, ending)

    def _already(self, request_id: str) -> ClickResult:
        latest = self.store.get(request_id)
        if latest is None:
            return ClickResult("That request is gone.")
        return ClickResult(describe_finished(latest), finished=latest)

    # ---- expiry --------------------------------------------------------------------------

    def expire_due(self, limit: int = 100) -> list[Ending]:
        """Expire pending requests past their TTL; safe to run on every replica at once."""
        endings = []
        for request in self.store.due_for_expiry(self.clock(), limit):
            expired = self.store.transition(
                request.id, [S.PENDING], S.EXPIRED, actor=SYSTEM, at=self.clock(), detail="approval TTL passed"
            )
            if expired is not None:
                ending = Ending(expired)
                self._announce(ending)
                endings.append(ending)
        return endings

    def recover_stuck(self, older_than: timedelta = timedelta(minutes=5), limit: int = 100) -> list[Ending]:
        """Close requests whose bot process died mid-way, so the call can be transferred again.

        `approved` never reached the POST, so nothing was sent; `executing` may have been sent,
        so it is reported as uncertain and never resent.
        """
        endings = []
        for request in self.store.stuck([S.APPROVED, S.EXECUTING], self.clock() - older_than, limit):
            sent = request.state is S.EXECUTING
            problem = _ABANDONED_EXECUTING if sent else _ABANDONED_APPROVED
            closed = self.store.transition(
                request.id, [request.state], S.FAILED, actor=SYSTEM, at=self.clock(),
                outcome="uncertain" if sent else "failed", detail=problem.code, record_actor=False,
            )
            if closed is not None:
                ending = Ending(closed, problem)
                self._announce(ending)
                endings.append(ending)
        return endings

    # ---- execution -----------------------------------------------------------------------

    def _recheck_and_execute(self, request: TransferRequest, actor: str) -> Ending:
        try:
            call = self.genesys.get_call(request.conversation_id)
        except GenesysError as error:
            problem = from_genesys(error, during="re-checking the call before transferring")
            failed = self.store.transition(
                request.id, [S.APPROVED], S.FAILED, actor=actor, at=self.clock(), outcome="failed",
                correlation_id=error.correlation_id, detail=problem.code, record_actor=False,
            )
            return Ending(failed or request, problem)
        verdict = still_same_call(request.snapshot, call)
        if isinstance(verdict, NotTransferable):
            problem = refused(verdict)
            superseded = self.store.transition(
                request.id, [S.APPROVED], S.SUPERSEDED, actor=SYSTEM, at=self.clock(),
                outcome=verdict.reason.value, detail=problem.message, record_actor=False,
            )
            return Ending(superseded or request, problem)
        return self.execute(request)

    def execute(self, request: TransferRequest) -> Ending:
        """Send the one POST for an approved request, then confirm it with a bounded re-read."""
        started = self.store.transition(
            request.id, [S.APPROVED], S.EXECUTING, actor=SYSTEM, at=self.clock(), record_actor=False
        )
        if started is None:
            latest = self.store.get(request.id) or request
            return Ending(latest, Problem("already_handled", describe_finished(latest)))
        sent_at = self.clock()
        try:
            correlation_id = self.genesys.replace_with_queue(
                request.conversation_id, request.snapshot.agent_participant_id, request.queue_id
            )
        except GenesysError as error:
            problem = from_genesys(error, during="sending the transfer")
            log.warning("transfer %s of conversation %s failed: %s", request.id, request.conversation_id, error)
            failed = self.store.transition(
                request.id, [S.EXECUTING], S.FAILED, actor=SYSTEM, at=self.clock(),
                outcome="uncertain" if error.maybe_executed else "failed",
                correlation_id=error.correlation_id, detail=problem.code, record_actor=False,
            )
            return Ending(failed or started, problem)
        status = self._confirm(request, sent_at)
        log.info(
            "transfer %s: conversation %s to queue %s accepted by Genesys (%s), correlation id %s",
            request.id, request.conversation_id, request.queue_id, status.value, correlation_id,
        )
        final_state = S.FAILED if status is TransferStatus.FAILED else S.SUCCEEDED
        final = self.store.transition(
            request.id, [S.EXECUTING], final_state, actor=SYSTEM, at=self.clock(), outcome=status.value,
            correlation_id=correlation_id, record_actor=False,
        )
        problem = None
        if status is TransferStatus.FAILED:
            problem = Problem(
                "transfer_failed",
                "Genesys accepted the transfer but then reported it failed; the call stays with the agent.",
                "Check the call in Genesys, then try again if it is still live.",
                correlation_id=correlation_id,
            )
        return Ending(final or started, problem)

    def _confirm(self, request: TransferRequest, sent_at: datetime) -> TransferStatus:
        settings = self.verify_settings
        for attempt in range(settings.attempts):
            if attempt:
                self.sleep(settings.interval_seconds)
            try:
                call = self.genesys.get_call(request.conversation_id, priority=Priority.BACKGROUND)
            except GenesysError as error:
                log.info("confirmation read for %s failed: %s", request.id, error)
                return TransferStatus.PENDING
            status = transfer_status(call, request.queue_id, request.snapshot.agent_participant_id, sent_at)
            if status is not TransferStatus.PENDING:
                return status
        return TransferStatus.PENDING

    def _read_call(self, conversation_id: str, *, during: str):
        try:
            return self.genesys.get_call(conversation_id)
        except GenesysError as error:
            raise from_genesys(error, during=during) from error

    def _announce(self, ending: Ending) -> None:
        if self.notifier is None:
            return
        try:
            self.notifier.request_ended(ending)
        except Exception:
            log.exception("could not update Slack for request %s", ending.request.id)


def _busy(existing: TransferRequest | None) -> Problem:
    if existing is not None and existing.state is S.PENDING:
        return Problem(
            "already_pending",
            f"A transfer of this call to {existing.queue_name} is already waiting for approval "
            f"(asked at {existing.created_at:%H:%M} UTC).",
            "Wait for a supervisor, or ask the requester to cancel it.",
        )
    return Problem(
        "in_progress",
        "Another transfer of this call is in progress right now.",
        "Wait a moment and check the call before trying again.",
    )


_ABANDONED_APPROVED = Problem(
    "abandoned",
    "The bot stopped before it sent this transfer, so nothing was sent.",
    "Run /transfer again if the call still needs to move.",
)
_ABANDONED_EXECUTING = Problem(
    "abandoned_uncertain",
    "The bot stopped while sending this transfer; Genesys may or may not have executed it.",
    "Check the call in Genesys before trying again; the bot did not resend it.",
)

_CLICK_REFUSALS = {
    ClickVerdict.NOT_APPROVER: "You can't approve or deny this: only configured transfer approvers can.",
    ClickVerdict.SELF_APPROVAL: "You can't approve or deny your own request. Use Cancel to withdraw it.",
    ClickVerdict.NOT_REQUESTER: "Only the person who asked for this transfer can cancel it.",
}


def _click_refusal(verdict: ClickVerdict) -> str:
    return _CLICK_REFUSALS[verdict]


_VERBS = {
    S.APPROVED: "already approved",
    S.EXECUTING: "already approved and being transferred",
    S.SUCCEEDED: "already approved and transferred",
    S.FAILED: "already approved, but the transfer failed",
    S.DENIED: "already denied",
    S.CANCELLED: "already cancelled",
    S.EXPIRED: "already expired",
    S.SUPERSEDED: "already closed because the call changed",
}


def finished_verb(request: TransferRequest) -> str:
    return _VERBS.get(request.state, request.state.value)


def describe_finished(request: TransferRequest, mention: Callable[[str], str] = str) -> str:
    """E.g. "This request was already approved by U123 at 10:02 UTC."; `mention` formats the actor."""
    who = ""
    if request.acted_by and request.acted_by != SYSTEM:
        who = f" by {mention(request.acted_by)}"
    when = f" at {request.acted_at:%H:%M} UTC" if request.acted_at else ""
    return f"This request was {finished_verb(request)}{who}{when}."


def _ending_summary(ending: Ending) -> str:
    if ending.problem:
        return ending.problem.message
    return f"Approved. Transfer to {ending.request.queue_name}: {ending.request.outcome or ending.request.state.value}."
