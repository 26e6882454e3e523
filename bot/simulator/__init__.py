"""A Genesys Cloud simulator on 127.0.0.1 speaking the documented wire format (stdlib only).

Used by the test-suite, ``python app.py --simulate-genesys``, the benchmark and the playground::

    from bot.simulator import GenesysSimulator, seed_demo
    with GenesysSimulator(rate_limit_per_minute=300, burst=10) as sim:
        q = sim.add_queue("Support_Tier2")
        bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
        call = sim.add_call("connected", queue=q, stale_agent_duplicates=2)
        chat = sim.add_conversation("chat", "connected", agent=bob, queue=q)
        # ApiClient(host=sim.url).get_client_credentials_token("sim-client", "sim-secret") ...

Endpoints (all under /api/v2 need a bearer token from ``POST /oauth/token``, are rate limited per
client, recorded in ``sim.requests`` and subject to latency and faults):

* ``GET conversations/calls/{id}`` (404 for other media), ``GET conversations/{id}`` (per-media
  arrays calls/messages/emails/callbacks, recentTransfers);
* ``POST conversations/{cid}/participants/{pid}/replace/queue|replace/agent|transfer`` (202; the
  last is voice only);
* ``GET routing/queues`` (``name`` with ``*`` wildcards, ``divisionId``, ``id``, paging),
  ``GET routing/queues/{id}``, ``GET routing/queues/{id}[/mediatypes/{m}]/estimatedwaittime``;
* ``POST users/search``, ``GET users/{id}`` (``expand=station,routingStatus``),
  ``GET users/{id}/routingstatus``;
* ``POST analytics/conversations/activity/query`` (``groupBy`` required),
  ``POST analytics/queues/observations/query``.

Controls on ``GenesysSimulator``:

* Org: ``add_queue(name, division="Home", **kw)``, ``add_user(name, email, *, state="active",
  station=True, routing_status="IDLE", queues=())``, ``update_user(user, *, state, station,
  routing_status, queues)``, ``set_routing_status(user, status)``, ``user(name_or_id)``, ``users``.
* Conversations: ``add_call(scenario, queue, agent_name, stale_agent_duplicates, **kw)`` (voice;
  scenarios in ``SCENARIOS``: connected, ivr, queued, alerting, ended, conference, message,
  monitored, coached, barged, unknown_state); ``add_conversation(media="call"|"chat"|"email"|
  "callback", scenario, *, agent, queue, **kw)`` (digital media: connected, queued, alerting, ended,
  conference, unknown_state); ``end_conversation(id)`` / ``end_call(id)``; ``change_agent(...)``;
  ``set_participant_state(cid, pid, state)``; ``call_json(id)``, ``conversation_json(id)``.
* Side panel: ``live_conversations()`` -> ``LiveConversation`` (media, state, agent, current
  queue, supervisor, newest transfer state); ``queue_stats()`` -> ``QueueStats`` (members,
  on-queue, available, interacting, waiting, estimated wait).
* Transfers: ``set_transfer_outcome(conv_id | None, outcome, times=None, *, delay, active_after)``
  with outcomes complete | pending | active | failed | canceled | timeout (a failure after the 202
  leaves the call with the original agent); ``set_transfer_delay(s)``; ``set_auto_answer(s | None)``
  (an IDLE member picks up a queue transfer); ``set_agent_answer(s | None)``; ``transfers``.
* Knobs: ``set_latency``, ``set_rate_limit``, ``add_client``, ``expire_tokens``, ``issue_token``.
* Faults: ``inject(...)`` (status, raw ``body``, ``message_size``, ``delay``, ``drip``,
  ``truncate_after``, ``drop_connection``, ``hang``, ``execute_before_fault``) and the shortcuts
  ``inject_invalid_json``, ``inject_huge_error``, ``inject_drip``, ``inject_drop``; ``clear_faults``.
* Observation: ``requests``, ``requests_matching(method, regex)``, ``reset_requests``, ``count_429``.

Modules: ``entities`` (data model), ``scenarios`` (building conversations), ``world`` (state
machine), ``render`` (Genesys JSON), ``analytics`` and ``directory`` (query endpoints),
``endpoints`` (request handlers), ``server`` (HTTP plumbing and routing table), ``simulator``
(``GenesysSimulator``), ``ratelimit`` (token bucket), ``faults`` (injected failures), ``demo``
(``seed_demo``), ``__main__`` (``python -m bot.simulator``).
"""

from bot.simulator.demo import DemoSeed, demo_id, seed_demo
from bot.simulator.entities import (
    SCENARIOS,
    LiveConversation,
    QueueStats,
    SimCall,
    SimQueue,
    SimTransfer,
    SimUser,
)
from bot.simulator.faults import Fault
from bot.simulator.server import RecordedRequest
from bot.simulator.simulator import GenesysSimulator

__all__ = [
    "SCENARIOS",
    "DemoSeed",
    "Fault",
    "GenesysSimulator",
    "LiveConversation",
    "QueueStats",
    "RecordedRequest",
    "SimCall",
    "SimQueue",
    "SimTransfer",
    "SimUser",
    "demo_id",
    "seed_demo",
]
