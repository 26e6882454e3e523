"""Builds the participant legs of a new conversation for a (media, scenario) pair.

Shapes follow real ACD interactions: customer → (voice only) IVR → acd leg on the queue → agent
leg(s). A voice call can also carry stale agent legs (alerting timeouts of the same user) and a
supervisor leg (monitor, coach or barge-in) pointing at the agent leg. The builder is pure: it gets
resolved queue and users and returns the conversation plus the handle given to test code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.simulator.entities import (
    DIGITAL_SCENARIOS,
    SUPERVISOR_SCENARIOS,
    UNKNOWN_STATE,
    Conversation,
    Leg,
    SimCall,
    SimQueue,
    SimUser,
    new_id,
)

DEFAULT_SUBJECT = "Order #1042 arrived damaged"


@dataclass
class BuildSpec:
    conversation_id: str
    media: str
    scenario: str
    queue: SimQueue
    agent: SimUser
    second_agent: SimUser | None
    supervisor: SimUser | None
    t0: float
    stale: int = 0
    customer_name: str = "Pat Customer"
    ani: str = "tel:+15551230001"
    dnis: str = "tel:+18005550100"
    subject: str | None = None


def check_scenario(media: str, scenario: str) -> None:
    """ValueError for a scenario the media cannot have (IVR, supervisors and stale legs are voice only)."""
    if media != "call" and scenario not in DIGITAL_SCENARIOS:
        raise ValueError(f"scenario {scenario!r} is not available for {media}; expected one of {DIGITAL_SCENARIOS}")


def acd_address(media: str, queue_id: str) -> str | None:
    return f"sip:{queue_id}@127.0.0.1;language=en-US;user=acd" if media == "call" else None


def agent_leg(media: str, user: SimUser, queue_id: str | None, start: float, *, connected: bool,
              purpose: str = "agent") -> Leg:  # fmt: skip
    """An agent leg: alerting since ``start``; connected 1.5 s later when ``connected``."""
    return Leg(
        id=new_id(),
        purpose=purpose,
        state="connected" if connected else "alerting",
        start=start,
        alerting=start,
        connected=start + 1.5 if connected else None,
        name=user.name,
        address=f"sip:{user.id}@localhost" if media == "call" else None,
        user_id=user.id,
        queue_id=queue_id,
        wrapup_required=True,
    )


def acd_leg(media: str, queue: SimQueue, start: float) -> Leg:
    return Leg(
        id=new_id(),
        purpose="acd",
        state="connected",
        start=start,
        connected=start,
        name=queue.name,
        address=acd_address(media, queue.id),
        queue_id=queue.id,
    )


def _customer_leg(spec: BuildSpec) -> Leg:
    addresses = {
        "call": spec.ani,
        "message": spec.ani.removeprefix("tel:"),
        "email": "pat.customer@example.net",
        "callback": spec.ani,
    }
    voice = spec.media == "call"
    return Leg(
        id=new_id(),
        purpose="customer",
        state="connected",
        start=spec.t0,
        connected=spec.t0,
        name=spec.customer_name,
        address=addresses[spec.media],
        ani=spec.ani if voice else None,
        dnis=spec.dnis if voice else None,
        queue_id=spec.queue.id,
    )


def build(spec: BuildSpec) -> tuple[Conversation, SimCall]:
    """The conversation for ``spec`` and its handle (ValueError for an impossible combination)."""
    check_scenario(spec.media, spec.scenario)
    conv = Conversation(
        id=spec.conversation_id,
        media=spec.media,
        start=spec.t0,
        division_id=spec.queue.division_id,
        subject=(spec.subject or DEFAULT_SUBJECT) if spec.media == "email" else None,
    )
    customer = _customer_leg(spec)
    conv.legs.append(customer)
    handle = SimCall(id=conv.id, scenario=spec.scenario, customer_participant_id=customer.id,
                     queue_id=spec.queue.id, media=spec.media)  # fmt: skip
    if _build_front(conv, spec, handle):
        _build_agents(conv, spec, handle, customer)
    if spec.media != "call":
        for leg in conv.legs:
            if leg.state == "terminated":
                leg.state = "disconnected"
    return conv, handle


def _build_front(conv: Conversation, spec: BuildSpec, handle: SimCall) -> bool:
    """IVR and acd legs; False when the scenario stops before an agent is involved."""
    t0 = spec.t0
    if spec.media == "call":
        ivr = Leg(id=new_id(), purpose="ivr", state="connected", start=t0 + 0.2, connected=t0 + 0.2,
                  name="Main IVR Flow", address=spec.dnis)  # fmt: skip
        conv.legs.append(ivr)
        handle.ivr_participant_id = ivr.id
        if spec.scenario == "ivr":
            return False
        ivr.terminate(t0 + 20, "transfer")
    acd = acd_leg(spec.media, spec.queue, t0 + 20)
    conv.legs.append(acd)
    handle.acd_participant_id = acd.id
    if spec.scenario == "queued":
        return False
    if spec.scenario == "alerting":
        agent = agent_leg(spec.media, spec.agent, spec.queue.id, t0 + 45, connected=False)
        conv.legs.append(agent)
        _set_agents(handle, agent, (agent.id,))
        return False
    acd.terminate(t0 + 45, "transfer")
    return True


def _set_agents(handle: SimCall, agent: Leg, ids: tuple[str, ...]) -> None:
    handle.agent_participant_id = agent.id
    handle.agent_participant_ids = ids
    handle.agent_user_id = agent.user_id


def _build_agents(conv: Conversation, spec: BuildSpec, handle: SimCall, customer: Leg) -> None:
    t0, q = spec.t0, spec.queue
    stale_ids = []
    for k in range(spec.stale):
        s = agent_leg(spec.media, spec.agent, q.id, t0 + 21 + k * 8, connected=False)
        s.terminate(t0 + 28 + k * 8, "transfer.noanswer")
        s.wrapup_required = False
        conv.legs.append(s)
        stale_ids.append(s.id)
    handle.stale_agent_participant_ids = tuple(stale_ids)
    agent = agent_leg(spec.media, spec.agent, q.id, t0 + 45, connected=True)
    conv.legs.append(agent)
    ids = [agent.id]
    if spec.scenario == "conference" and spec.second_agent is not None:
        other = agent_leg(spec.media, spec.second_agent, q.id, t0 + 90, connected=True)
        conv.legs.append(other)
        ids.append(other.id)
    if spec.scenario in SUPERVISOR_SCENARIOS and spec.supervisor is not None:
        sup = _supervisor_leg(spec, agent)
        conv.legs.append(sup)
        handle.supervisor_participant_id = sup.id
        handle.supervisor_user_id = sup.user_id
    if spec.scenario == "ended":
        end = t0 + 150
        customer.terminate(end, "endpoint")
        agent.terminate(end + 0.05, "peer")
    if spec.scenario == "unknown_state":
        agent.state = UNKNOWN_STATE
    _set_agents(handle, agent, tuple(ids))


def _supervisor_leg(spec: BuildSpec, agent: Leg) -> Leg:
    """Purpose "agent", like the leg it watches: only the ``*ParticipantId`` field tells them apart."""
    assert spec.supervisor is not None
    sup = agent_leg(spec.media, spec.supervisor, None, spec.t0 + 100, connected=True)
    sup.wrapup_required = False
    kind = SUPERVISOR_SCENARIOS[spec.scenario]
    if kind == "monitored":
        sup.monitored_id = agent.id
    elif kind == "coached":
        sup.coached_id = agent.id
    else:
        sup.barged_id = agent.id
        sup.barged_time = spec.t0 + 110
    return sup
