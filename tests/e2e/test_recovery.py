"""A bot process that died mid-transfer must not leave the call blocked, nor resend anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.model import CallSnapshot, RequestState, TransferRequest
from bot.store.sql import open_store

from tests.kit.bots import InProcessBot
from tests.kit.env import bot_env
from tests.kit.slack_client import SlackClientSide

S = RequestState


def test_requests_left_executing_are_closed_as_uncertain_and_the_call_can_be_transferred(sim, slack, tmp_path):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    snap = CallSnapshot(call.id, call.agent_participant_id, "Ann", None, None, None, long_ago)
    store = open_store(url)
    store.add(TransferRequest(id="d" * 32, conversation_id=call.id, queue_id=queue.id, queue_name="Billing",
                              requester_id="U0AGENT01", state=S.APPROVED, created_at=long_ago, expires_at=None,
                              snapshot=snap), actor="U0AGENT01")
    store.transition("d" * 32, [S.APPROVED], S.EXECUTING, actor="system", at=long_ago)

    bot = InProcessBot(bot_env(slack, sim, url))
    try:
        client = SlackClientSide(slack, "127.0.0.1", bot.port)
        slack.wait_for(lambda: store.get("d" * 32).state is S.FAILED)
        assert store.get("d" * 32).outcome == "uncertain"
        assert sim.requests_matching("POST", r"/replace/queue$") == []  # never resent

        _, key = client.command(f"{call.id} Billing")
        assert "Transferred" in slack.wait_responses(key)[0]["text"]
    finally:
        bot.stop()
        store.close()
    assert len(sim.transfers) == 1
