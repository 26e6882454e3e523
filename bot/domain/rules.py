"""Rules about conversations that hold whoever asks (Slack, the command line, recovery)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.conversation import Conversation, Media, Participant, RecentTransfer
from bot.domain.problems import Code, Problem
from bot.domain.request import Snapshot
from bot.domain.target import Target, TargetKind

CUSTOMER_PURPOSES = frozenset({"customer", "external"})
AGENT_PURPOSES = frozenset({"agent", "user"})
ENDED_STATES = frozenset({"disconnected", "terminated"})
RINGING_STATES = frozenset({"alerting", "offering", "contacting", "dialing"})
# Every state SDK 269 knows for a leg; anything else (e.g. "outdated_sdk_version") is unknown.
KNOWN_STATES = frozenset(
    {
        "alerting", "dialing", "contacting", "offering", "connected", "disconnected", "terminated",
        "converting", "uploading", "transmitting", "parked", "none", "scheduled",
    }
)


@dataclass(frozen=True)
class Transferable:
    agent: Participant


def _live(p: Participant) -> bool:
    return p.state not in ENDED_STATES and p.end_time is None


def _refuse(code: Code, **facts: object) -> Problem:
    return Problem(code, facts)


def assess(conversation: Conversation) -> Transferable | Problem:
    """Decide whether a conversation can be blind-transferred, and which leg to replace.

    Genesys often lists the same agent several times (alerting timeouts, reconnects), so the
    leg to replace is the single *connected* agent/user leg, never the first one listed.
    Monitoring, coaching and barge-in legs are supervisors listening in, not a second agent.
    """
    verdict = _assess(conversation)
    if isinstance(verdict, Problem) and "media" not in verdict.facts:
        return Problem(verdict.code, {**verdict.facts, "media": conversation.media.value}, verdict.correlation_id)
    return verdict


def _assess(conversation: Conversation) -> Transferable | Problem:
    legs = conversation.participants
    unknown = [p for p in legs if p.end_time is None and p.state not in KNOWN_STATES]
    if unknown:
        return _refuse(Code.CALL_STATE_UNKNOWN, state=unknown[0].state, purpose=unknown[0].purpose)
    if not legs or all(not _live(p) for p in legs):
        return _refuse(Code.CALL_ENDED)
    customers = [p for p in legs if p.purpose in CUSTOMER_PURPOSES and p.is_live]
    if not customers and conversation.media is not Media.EMAIL:
        # An email has no "connected" customer leg once it has been received; the rest applies.
        if any(p.purpose in CUSTOMER_PURPOSES for p in legs):
            return _refuse(Code.CALL_ENDED, customer_left=True)
        return _refuse(Code.CALL_NO_CUSTOMER)
    agents = [p for p in legs if p.purpose in AGENT_PURPOSES and p.is_live and not p.is_supervisor_leg]
    if len(agents) == 1:
        return Transferable(agents[0])
    if len(agents) > 1:
        return _refuse(Code.CALL_CONFERENCE, agents=len(agents))
    if any(p.purpose in AGENT_PURPOSES and p.state in RINGING_STATES and p.end_time is None for p in legs):
        return _refuse(Code.CALL_ALERTING)
    if any(p.purpose == "ivr" and _live(p) for p in legs):
        return _refuse(Code.CALL_IN_IVR)
    if any(p.purpose == "acd" and _live(p) for p in legs):
        return _refuse(Code.CALL_IN_QUEUE)
    return _refuse(Code.CALL_NO_AGENT)


def check_target(conversation: Conversation, agent: Participant, target: Target) -> Problem | None:
    """Refusals that depend on where the conversation is going."""
    if target.kind is TargetKind.NUMBER and conversation.media is not Media.CALL:
        return _refuse(Code.NUMBER_NEEDS_VOICE, media=conversation.media.value)
    if target.kind is TargetKind.AGENT and agent.user_id and agent.user_id == target.id:
        return _refuse(Code.AGENT_ALREADY_ON_CALL, agent=target.name)
    return None


def queue_at_request(conversation: Conversation, agent: Participant) -> str | None:
    """The queue the conversation came through: the agent leg's queue, else the latest ACD leg's."""
    if agent.queue_id:
        return agent.queue_id
    acd = [p for p in conversation.participants if p.purpose == "acd" and p.queue_id]
    return acd[-1].queue_id if acd else None


def started(conversation: Conversation) -> datetime | None:
    """When the customer leg started; Genesys has no conversation-level start time."""
    times = [
        p.connected_time or p.start_time
        for p in conversation.participants
        if p.purpose in CUSTOMER_PURPOSES and (p.connected_time or p.start_time)
    ]
    return min(times) if times else None


def snapshot(conversation: Conversation, agent: Participant, queue_name: str | None = None) -> Snapshot:
    return Snapshot(
        conversation_id=conversation.id,
        media=conversation.media,
        agent_participant_id=agent.id,
        agent_name=agent.name,
        agent_user_id=agent.user_id,
        queue_at_request_id=queue_at_request(conversation, agent),
        queue_at_request_name=queue_name,
        started=started(conversation),
    )


def still_same(before: Snapshot, now: Conversation) -> Transferable | Problem:
    """Re-check at approval time: still live, with the same agent leg as at request time."""
    verdict = assess(now)
    if isinstance(verdict, Problem):
        return verdict
    if verdict.agent.id != before.agent_participant_id:
        return _refuse(Code.CALL_CHANGED, agent_then=before.agent_name, agent_now=verdict.agent.name)
    return verdict


class TransferStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    FAILED = "failed"


_DONE = {"complete"}
_BROKEN = {"failed", "canceled", "cancelled", "timeout"}
SKEW = timedelta(seconds=5)


def _destination_matches(entry: RecentTransfer, target: Target) -> bool:
    if target.kind is TargetKind.AGENT:
        return entry.destination_user_id == target.id
    if target.kind is TargetKind.NUMBER:
        address = (entry.destination_address or "").removeprefix("tel:")
        return address == target.id
    # For a queue, Genesys documents the address only for endpoints; when it is set it must be
    # the queue, and an entry naming a user (someone else's agent transfer) is not ours.
    if entry.destination_user_id:
        return False
    return entry.destination_address in (None, "", target.id)


@dataclass(frozen=True)
class TransferReading:
    status: TransferStatus
    transfer_id: str | None = None
    genesys_state: str | None = None


def our_transfer(
    conversation: Conversation, target: Target, sent_at: datetime, known_id: str | None = None
) -> RecentTransfer | None:
    """The recentTransfers entry for the command we sent, never just the latest one.

    Once matched its id is remembered, so a later, concurrent transfer can't be mistaken for it.
    """
    entries = conversation.recent_transfers
    if known_id:
        return next((t for t in entries if t.id == known_id), None)
    candidates = [
        t
        for t in entries
        if (t.date_issued is None or t.date_issued >= sent_at - SKEW) and _destination_matches(t, target)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (t.date_issued is None, t.date_issued or sent_at))


def _new_leg_present(conversation: Conversation, target: Target, replaced_id: str) -> bool:
    replaced_gone = all(p.id != replaced_id or not _live(p) for p in conversation.participants)
    if not replaced_gone:
        return False
    for p in conversation.participants:
        if not _live(p) or p.id == replaced_id:
            continue
        if target.kind is TargetKind.QUEUE and p.purpose == "acd" and p.queue_id == target.id:
            return True
        if target.kind is TargetKind.AGENT and p.purpose in AGENT_PURPOSES and p.user_id == target.id:
            return True
        if (
            target.kind is TargetKind.NUMBER
            and p.purpose in CUSTOMER_PURPOSES
            and (p.address or "").removeprefix("tel:") == target.id
        ):
            return True
    return False


def read_transfer(
    conversation: Conversation,
    target: Target,
    replaced_participant_id: str,
    sent_at: datetime,
    known_id: str | None = None,
) -> TransferReading:
    """Genesys' view of a transfer we sent: our recentTransfers entry first, then the new leg.

    While a transfer is pending, and after it fails, the agent's leg can still look connected,
    so the legs alone never say "failed"; only the entry does.
    """
    entry = our_transfer(conversation, target, sent_at, known_id)
    if entry is not None:
        state = (entry.state or "").casefold()
        if state in _DONE:
            return TransferReading(TransferStatus.CONFIRMED, entry.id, entry.state)
        if state in _BROKEN:
            return TransferReading(TransferStatus.FAILED, entry.id, entry.state)
    if _new_leg_present(conversation, target, replaced_participant_id):
        return TransferReading(TransferStatus.CONFIRMED, entry.id if entry else None, entry.state if entry else None)
    return TransferReading(TransferStatus.PENDING, entry.id if entry else None, entry.state if entry else None)


def agent_still_holds(conversation: Conversation, replaced_participant_id: str) -> bool:
    return any(p.id == replaced_participant_id and p.is_live for p in conversation.participants)
