"""A Genesys Cloud simulator on 127.0.0.1 speaking the documented wire format (stdlib only).

Used by the test-suite, by ``python app.py --simulate-genesys`` and by benchmarks::

    from bot.simulator import GenesysSimulator, seed_demo
    with GenesysSimulator(rate_limit_per_minute=300, burst=10) as sim:
        q = sim.add_queue("Support_Tier2")
        call = sim.add_call("connected", queue=q, stale_agent_duplicates=2)
        # ApiClient(host=sim.url).get_client_credentials_token("sim-client", "sim-secret") ...

Modules: ``world`` (in-memory org + transitions), ``server`` (HTTP handler and
``GenesysSimulator``), ``ratelimit`` (token bucket, model documented there), ``faults``
(injected failures), ``demo`` (``seed_demo``), ``__main__`` (``python -m bot.simulator``).
"""

from bot.simulator.demo import DemoSeed, seed_demo
from bot.simulator.faults import Fault
from bot.simulator.server import GenesysSimulator, RecordedRequest
from bot.simulator.world import SCENARIOS, SimCall, SimQueue, SimTransfer

__all__ = [
    "SCENARIOS",
    "DemoSeed",
    "Fault",
    "GenesysSimulator",
    "RecordedRequest",
    "SimCall",
    "SimQueue",
    "SimTransfer",
    "seed_demo",
]
