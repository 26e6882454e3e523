"""5. Options latency: the form's queue typeahead (block_suggestion for `queue`) with Genesys slow.

The queue list is loaded once first (the typeahead answers with queues); then the simulator delays
every response by --latency (2 s) and N signed block_suggestion requests are sent, some in
parallel, with a mix of what people type. Slack drops an options answer after 3 s; the target is
p99 ≤ 200 ms, served from the bot's cache while its background refresh talks to the slow Genesys.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

from bench.core import Ack, Context, ScenarioResult, latency_rows, post_signed, verdict

NAME = "5. Options latency (queue typeahead, Genesys slow)"
P99_TARGET = 0.200
TINY = {"options_requests": 12, "options_in_flight": 3, "options_queues": 12}
TYPED = ("", "sup", "support", "support tier 2", "SUPPORT_TIER", "bill", "sales", "tier 1", "queue 0", "q")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--options-requests", type=int, default=200, help="block_suggestion requests to send")
    p.add_argument("--options-in-flight", type=int, default=10, help="requests in flight")
    p.add_argument("--options-queues", type=int, default=120, help="queues in the org")


def check_arguments(args: argparse.Namespace) -> str | None:
    if min(args.options_requests, args.options_in_flight, args.options_queues) < 1:
        return "--options-requests, --options-in-flight and --options-queues must be at least 1"
    return None


def _org(sim, queues: int) -> None:
    """Named queues people look for, then numbered ones; idle agents and waiting calls for health."""
    named = ["Support Tier 1", "Support Tier 2", "Support_Tier2_Overflow", "Billing", "Sales", "VIP Support"]
    made = [sim.add_queue(name) for name in named[:queues]]
    made += [sim.add_queue(f"Queue {i:03d}") for i in range(max(0, queues - len(named)))]
    for i, queue in enumerate(made[:6]):
        sim.add_user(f"Idle {i}", f"idle{i}@example.com", routing_status="IDLE", queues=[queue])
        sim.add_conversation("call", "queued", queue=queue)


def _options(ack: Ack) -> list[dict] | None:
    if ack.status != 200:
        return None
    try:
        return json.loads(ack.body).get("options")
    except ValueError:
        return None


def _warm(client, timeout: float = 90.0) -> float:
    """Ask until the typeahead answers with queues (the list has been loaded once); seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _options(post_signed(client, client.suggestion_body(""))):
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError(f"the typeahead never answered with queues within {timeout:g} s")


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    n = a.options_requests
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst) as sim:
        _org(sim, a.options_queues)
        bot = ctx.start_bot(sim, "s5-options", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            bot.wait_ready()
            client = ctx.client(bot)
            warm = _warm(client)
            sim.set_latency(a.latency)
            before = len(sim.requests)
            bodies = [client.suggestion_body(TYPED[i % len(TYPED)]) for i in range(n)]
            with ThreadPoolExecutor(max_workers=a.options_in_flight, thread_name_prefix="slack-client") as pool:
                acks = list(pool.map(lambda body: post_signed(client, body), bodies))
            genesys_during = len(sim.requests) - before
        finally:
            bot.stop()
    answers = [_options(x) for x in acks]
    ok = sum(1 for o in answers if o is not None)
    with_queues = sum(1 for o in answers if o)
    with_health = sum(1 for o in answers if o and any("available" in x["text"]["text"] for x in o))
    lat = [x.elapsed for x in acks]
    res.add(f"answers ({n} requests, {a.options_in_flight} in flight)", f"{ok} ok", f"{n} ok", verdict(ok == n), ok)
    latency_rows(res, "options latency", lat, p99_target=P99_TARGET)
    res.add("answers with queues in them", str(with_queues), "(no target)", "info", with_queues)
    res.add("answers showing health", str(with_health), "(no target)", "info", with_health)
    res.note(
        f"{a.options_queues} queues; the first answer with queues came {warm:.1f} s after /readyz (list loaded "
        f"once); then the simulator delayed every response by {a.latency:g} s. Typed values cycle through "
        f"{list(TYPED)}. Genesys received {genesys_during} requests during the run (background refresh). "
        "Latency = client-side, connect+send to the full response."
    )
    bad = [(x.status, x.error, x.body[:80]) for x, o in zip(acks, answers, strict=True) if o is None][:3]
    if bad:
        res.note(f"failed answers: {bad}")
    return res
