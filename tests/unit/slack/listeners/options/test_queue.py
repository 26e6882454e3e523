"""Queue typeahead: answered from the cache, in ranked order, never an error."""

from __future__ import annotations

from bot.domain.conversation import QueueHealth
from bot.slack.listeners.options.queue import handle_queue_options
from tests.unit.slack.conftest import Harness


def test_typeahead_answers_from_the_cache(harness: Harness):
    w = harness.world
    w.genesys.add_queue("Support Tier 3")
    tier2 = next(q for q in w.genesys.queues.values() if q.name == "Support_Tier2")
    w.genesys.health[tier2.id] = QueueHealth(3, 5, 120)
    queues = harness.deps.queues
    assert queues.refresh_catalog()
    queues.health_now(tier2.id)
    calls = len(w.genesys.calls)
    handle_queue_options(harness.recorder.ack, {"value": "support tier"}, harness.deps)
    assert len(w.genesys.calls) == calls  # nothing asked of Genesys
    (ack,) = harness.recorder.acks
    texts = [o["text"]["text"] for o in ack["options"]]
    assert texts[0] == "Support Tier 3" or texts[0].startswith("Support_Tier")
    assert "Support_Tier2 · 3 available · 5 waiting · ~2 min" in texts
    assert all(len(t) <= 75 for t in texts)


def test_empty_query_lists_everything(harness: Harness):
    harness.deps.queues.refresh_catalog()
    handle_queue_options(harness.recorder.ack, {"value": ""}, harness.deps)
    assert len(harness.recorder.acks[0]["options"]) == len(harness.world.genesys.queues)


def test_a_failing_search_answers_an_empty_list(harness: Harness, monkeypatch):
    monkeypatch.setattr(harness.deps.queues, "search", lambda q: 1 / 0)
    handle_queue_options(harness.recorder.ack, {"value": "x"}, harness.deps)
    assert harness.recorder.acks == [{"options": []}]
