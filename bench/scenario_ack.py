"""1. Steady acks: N slash commands with 50 in flight while Genesys answers every request slowly.

The bot's Genesys client is loaded (GET /readyz = 200) before the first command, so this is the
steady state; the start-up case is scenario 1b. Latency is client-side: connect + send to the
full HTTP response, a new connection per request.
"""

from __future__ import annotations

import argparse

from bench.core import SLACK_ACK_LIMIT, Context, ScenarioResult, latency_rows, ms, percentile, send_commands, verdict
from bench.sim import live_calls

NAME = "1. Ack, steady (N in flight, Genesys slow)"
ACK_P99_TARGET = 0.100
TINY = {"commands": 10, "in_flight": 5}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--commands", type=int, default=200, help="slash commands to send")
    p.add_argument("--in-flight", type=int, default=50, help="commands in flight")


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.commands < 1 or args.in_flight < 1:
        return "--commands and --in-flight must be at least 1"
    return None


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst, latency=a.latency) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, a.commands)
        bot = ctx.start_bot(sim, "s1-ack", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            bot.wait_ready()
            acks = send_commands(ctx.client(bot), [f"{cid} Billing" for cid in calls], a.in_flight)
        finally:
            bot.stop()
    lat = [x.elapsed for x in acks]
    bad = [x for x in acks if not x.ok]
    over = sum(1 for v in lat if v > SLACK_ACK_LIMIT)
    res.add(f"acks ({a.commands} commands, {a.in_flight} in flight)", f"{len(acks) - len(bad)} ok",
            f"{a.commands} ok", verdict(not bad), len(acks) - len(bad))
    latency_rows(res, "ack latency", lat, p99_target=ACK_P99_TARGET, pcts=(50, 95, 99))
    res.add("acks over 3 s (operation_timeout)", str(over), "0", verdict(over == 0), over)
    res.note(
        f"Genesys simulator latency {a.latency:g} s on every response; rate limit {a.rate_limit}/min burst "
        f"{a.burst} (bot paced the same); the bot was ready (/readyz) before the first command. "
        f"Latency = client-side time from connect+send to the full HTTP response, a new connection per request; "
        f"p50 {ms(percentile(lat, 50))}."
    )
    if bad:
        res.note(f"failed acks: {[(x.status, x.error, x.body[:80]) for x in bad[:3]]}")
    return res
