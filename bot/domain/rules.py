"""Rules about calls and requests that hold whatever the caller is (Slack, CLI, sweeper)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.model import Call, CallSnapshot, Participant, RequestState

S = RequestState

# pending -> approved -> executing -> succeeded/failed; pending -> denied/expired/cancelled/superseded.
# approved -> superseded covers "the call changed between request and approval".
ALLOWED_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.PENDING: frozenset({S.APPROVED, S.DENIED, S.EXPIRED, S.CANCELLED, S.SUPERSEDED}),
    S.APPROVED: frozenset({S.EXECUTING, S.SUPERSEDED, S.FAILED}),
    S.EXECUTING: frozenset({S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.DENIED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
    S.SUPERSEDED: frozenset(),
}


def is_allowed_transition(old: RequestState, new: RequestState) -> bool:
    return new in ALLOWED_TRANSITIONS[old]


CUSTOMER_PURPOSES = frozenset({"customer", "external"})
AGENT_PURPOSES = frozenset({"agent", "user"})
ENDED_STATES = frozenset({"disconnected", "terminated"})
RINGING_STATES = frozenset({"alerting", "offering", "contacting", "dialing"})


class Refusal(enum.StrEnum):
    """Why a call cannot be transferred now. Each has its own message in the Slack layer."""

    ENDED = "ended"
    NO_CUSTOMER = "no_customer"
    IN_IVR = "in_ivr"
    IN_QUEUE = "in_queue"
    ALERTING = "alerting"
    NO_AGENT = "no_agent"
    CONFERENCE = "conference"


@dataclass(frozen=True)
class Transferable:
    agent: Participant


@dataclass(frozen=True)
class NotTransferable:
    reason: Refusal
    detail: str = ""


def _live(p: Participant) -> bool:
    return p.state not in ENDED_STATES and p.end_time is None


def assess_call(call: Call) -> Transferable | NotTransferable:
    """Decide whether a call can be blind-transferred, and which participant to replace.

    Genesys often lists the same agent several times (alerting timeouts, reconnects), so the
    participant to replace is the single *connected* agent/user leg, never the first one listed.
    """
    participants = call.participants
    if not participants or all(not _live(p) for p in participants):
        return NotTransferable(Refusal.ENDED)

    customers = [p for p in participants if p.purpose in CUSTOMER_PURPOSES and p.is_live]
    if not customers:
        if any(p.purpose in CUSTOMER_PURPOSES for p in participants):
            return NotTransferable(Refusal.ENDED, "the customer has hung up")
        return NotTransferable(Refusal.NO_CUSTOMER)

    agents = [p for p in participants if p.purpose in AGENT_PURPOSES and p.is_live]
    if len(agents) == 1:
        return Transferable(agents[0])
    if len(agents) > 1:
        return NotTransferable(Refusal.CONFERENCE, f"{len(agents)} agents are connected")

    ringing = [
        p for p in participants if p.purpose in AGENT_PURPOSES and p.state in RINGING_STATES
    ]
    if ringing:
        return NotTransferable(Refusal.ALERTING)
    if any(p.purpose == "ivr" and _live(p) for p in participants):
        return NotTransferable(Refusal.IN_IVR)
    if any(p.purpose == "acd" and _live(p) for p in participants):
        return NotTransferable(Refusal.IN_QUEUE)
    return NotTransferable(Refusal.NO_AGENT)


def current_queue_id(call: Call, agent: Participant) -> str | None:
    """The queue the call came through: the agent leg's queue, else the latest ACD leg's."""
    if agent.queue_id:
        return agent.queue_id
    acd = [p for p in call.participants if p.purpose == "acd" and p.queue_id]
    return acd[-1].queue_id if acd else None


def call_started(call: Call) -> datetime | None:
    """When the customer leg started; Genesys has no call-level start time."""
    times = [
        p.connected_time or p.start_time
        for p in call.participants
        if p.purpose in CUSTOMER_PURPOSES and (p.connected_time or p.start_time)
    ]
    return min(times) if times else None


def snapshot(call: Call, agent: Participant, queue_name: str | None = None) -> CallSnapshot:
    return CallSnapshot(
        conversation_id=call.id,
        agent_participant_id=agent.id,
        agent_name=agent.name,
        agent_user_id=agent.user_id,
        current_queue_id=current_queue_id(call, agent),
        current_queue_name=queue_name,
        call_started=call_started(call),
    )


def still_same_call(before: CallSnapshot, now: Call) -> NotTransferable | Transferable:
    """Re-check at approval time: the call must be live with the same agent leg as at request."""
    verdict = assess_call(now)
    if isinstance(verdict, NotTransferable):
        return verdict
    if verdict.agent.id != before.agent_participant_id:
        return NotTransferable(Refusal.NO_AGENT, "the agent on the call changed")
    return verdict


class TransferStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    FAILED = "failed"


_DONE = {"complete"}
_BROKEN = {"failed", "canceled", "cancelled", "timeout"}


def transfer_status(
    call: Call, queue_id: str, replaced_participant_id: str, since: datetime | None = None
) -> TransferStatus:
    """Read Genesys' view of a transfer we sent: recentTransfers first, then the call's legs.

    `since` (when we sent it) skips older transfers of the same call; a little clock skew is allowed.
    """
    recent = [
        t
        for t in call.recent_transfers
        if since is None or t.date_issued is None or t.date_issued >= since - timedelta(seconds=5)
    ]
    if recent:
        latest = max(recent, key=lambda t: t.date_issued or datetime.min.replace(tzinfo=UTC))
        state = (latest.state or "").casefold()
        if state in _DONE:
            return TransferStatus.CONFIRMED
        if state in _BROKEN:
            return TransferStatus.FAILED
    replaced_gone = all(
        p.id != replaced_participant_id or not _live(p) for p in call.participants
    )
    in_target = any(
        p.purpose == "acd" and p.queue_id == queue_id and _live(p) for p in call.participants
    )
    if replaced_gone and in_target:
        return TransferStatus.CONFIRMED
    return TransferStatus.PENDING
