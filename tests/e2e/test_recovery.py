"""A bot process that died mid-transfer must not leave the call blocked, nor resend anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.conversation import Media
from bot.domain.problems import Code
from bot.domain.request import Ask, RequestState, Snapshot, TransferRequest
from bot.domain.target import Target, TargetKind
from bot.slack.origin import encode_origin
from bot.store import open_store
from tests.kit.bots import InProcessBot
from tests.kit.env import bot_env
from tests.kit.slack_client import SlackClientSide

S = RequestState


def test_executing_left_by_a_dead_process_is_settled_by_asking_genesys_and_the_requester_is_told(
        sim, slack, tmp_path):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    store = open_store(url)
    request = TransferRequest(
        id="d" * 32, requester_id="U0AGENT01", state=S.RECEIVED, created_at=a_minute_ago,
        ask=Ask(call.id, "Billing"), conversation_id=call.id, origin=encode_origin("C0FLOOR01", "U0AGENT01"),
    )
    store.add(request, actor="U0AGENT01", lease_owner="dead-process", lease_until=a_minute_ago)
    changes = {"target": Target(TargetKind.QUEUE, queue.id, "Billing"),
               "snapshot": Snapshot(call.id, Media.CALL, call.agent_participant_id, "Ann")}
    store.transition(request.id, [S.RECEIVED], S.APPROVED, actor="U0AGENT01", at=a_minute_ago, changes=changes)
    store.transition(request.id, [S.APPROVED], S.EXECUTING, actor="system", at=a_minute_ago,
                     changes={"sent_at": a_minute_ago})

    bot = InProcessBot(bot_env(slack, sim, url))
    try:
        client = SlackClientSide(slack, "127.0.0.1", bot.port)
        slack.wait_for(lambda: store.get(request.id).state is S.FAILED, timeout=20)
        settled = store.get(request.id)
        assert settled.problem.code is Code.BOT_RESTARTED  # the agent still has it, Genesys has no transfer
        assert sim.requests_matching("POST", r"/replace/queue$") == []  # never resent
        told = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") + slack.api_calls(
            "chat.postEphemeral") if "<@U0AGENT01>" in str(m) or m.get("user") == "U0AGENT01"])
        assert "nothing was sent" in str(told).lower() or "not transferred" in str(told).lower()

        _, key = client.command(f"{call.id} Billing")
        assert "Transferred" in slack.wait_for(
            lambda: [r for r in slack.responses(key) if "Transferred" in r.get("text", "")])[-1]["text"]
    finally:
        bot.stop()
        store.close()
    assert len(sim.transfers) == 1
