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
TINY = {"options_requests": 12, "options_in_flight": 3, "options_queues": 12, "options_rate": 20.0}
TYPED = ("", "sup", "support", "support tier 2", "SUPPORT_TIER", "bill", "sales", "tier 1", "queue 0", "q")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--options-requests", type=int, default=200, help="block_suggestion requests to send")
    p.add_argument("--options-in-flight", type=int, default=10, help="requests in flight")
    p.add_argument("--options-queues", type=int, default=120, help="queues in the org")
    p.add_argument("--options-rate", type=float, default=10.0,
                   help="requests started per second (people typing), so the run overlaps the slow refreshes")


def check_arguments(args: argparse.Namespace) -> str | None:
    if min(args.options_requests, args.options_in_flight, args.options_queues, args.options_rate) <= 0:
        return "--options-requests, --options-in-flight, --options-queues and --options-rate must be positive"
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


def _shows_health(options: list[dict] | None) -> bool:
    return bool(options) and any("available" in o["text"]["text"] for o in options)


def _warm(client, timeout: float = 90.0, health_timeout: float = 30.0) -> tuple[float, bool]:
    """Ask until the typeahead answers with queues (the list has been loaded once), then (bounded) until
    it shows health; seconds until the first, and whether health showed."""
    started = time.monotonic()
    while not _options(post_signed(client, client.suggestion_body("support"))):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the typeahead never answered with queues within {timeout:g} s")
        time.sleep(0.1)
    loaded = time.monotonic() - started
    deadline = time.monotonic() + health_timeout
    while time.monotonic() < deadline:
        if _shows_health(_options(post_signed(client, client.suggestion_body("support")))):
            return loaded, True
        time.sleep(0.2)
    return loaded, False


def _paced(client, bodies: list[str], in_flight: int, rate: float) -> list[Ack]:
    """Request i starts at i/rate seconds (or as soon as one of `in_flight` clients is free)."""
    t0 = time.monotonic()

    def one(item: tuple[int, str]) -> Ack:
        i, body = item
        time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        return post_signed(client, body)

    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="slack-client") as pool:
        return list(pool.map(one, enumerate(bodies)))


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
            warm, warm_health = _warm(client)
            sim.set_latency(a.latency)
            before = len(sim.requests)
            started = time.monotonic()
            bodies = [client.suggestion_body(TYPED[i % len(TYPED)]) for i in range(n)]
            acks = _paced(client, bodies, a.options_in_flight, a.options_rate)
            took = time.monotonic() - started
            genesys_during = len(sim.requests) - before
            answered = [(r.method, r.path.rsplit("/", 2)[-2:], round(r.at - started, 3), r.status)
                        for r in sim.requests[before:]]
        finally:
            bot.stop()
    answers = [_options(x) for x in acks]
    ok = sum(1 for o in answers if o is not None)
    with_queues = sum(1 for o in answers if o)
    with_health = sum(1 for o in answers if _shows_health(o))
    lat = [x.elapsed for x in acks]
    res.add(f"answers ({n} requests, {a.options_in_flight} in flight)", f"{ok} ok", f"{n} ok", verdict(ok == n), ok)
    latency_rows(res, "options latency", lat, p99_target=P99_TARGET)
    res.add("answers with queues in them", str(with_queues), "(no target)", "info", with_queues)
    res.add("answers showing health", str(with_health), "(no target)", "info", with_health)
    res.note(
        f"{a.options_queues} queues; the first answer with queues came {warm:.1f} s after /readyz (list loaded "
        f"once), health {'showed' if warm_health else 'had not shown within 30 s'} before the run; then the "
        f"simulator delayed every response by {a.latency:g} s. {n} requests started at {a.options_rate:g}/s "
        f"(at most {a.options_in_flight} in flight) over {took:.1f} s; typed values cycle through {list(TYPED)}. "
        f"Genesys received {genesys_during} requests meanwhile (the bot's background refresh). "
        "Latency = client-side, connect+send to the full response."
    )
    res.data = {"latencies": [(round(x.started - started, 3), round(x.elapsed, 4)) for x in acks],
                "genesys_requests": answered}
    bad = [(x.status, x.error, x.body[:80]) for x, o in zip(acks, answers, strict=True) if o is None][:3]
    if bad:
        res.note(f"failed answers: {bad}")
    return res
