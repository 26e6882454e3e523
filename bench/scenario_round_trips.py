"""2. Genesys round trips per transfer, cold and warm, read from the simulator's request log."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.core import Context, ScenarioResult, is_confirmed, last_result, send_commands, verdict, wait_results
from bench.sim import kind_of, live_calls
from bot.simulator import RecordedRequest

NAME = "2. Round trips per transfer"
TINY = {"warm_transfers": 2}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warm-transfers", type=int, default=3, help="warm transfers after the cold one")


def check_arguments(args: argparse.Namespace) -> str | None:
    return "--warm-transfers must be at least 1" if args.warm_transfers < 1 else None


def split_transfer(reqs: list[RecordedRequest]) -> dict[str, Any]:
    token = [r for r in reqs if kind_of(r) == "token"]
    api = [r for r in reqs if kind_of(r) != "token"]
    post_at = next((i for i, r in enumerate(api) if kind_of(r) == "replace" and r.status == 202), None)
    if post_at is None:
        return {"token": len(token), "up_to_post": None, "after_post": None, "sequence": [kind_of(r) for r in api]}
    return {
        "token": len(token),
        "up_to_post": post_at + 1,
        "after_post": len(api) - post_at - 1,
        "sequence": [kind_of(r) for r in api[: post_at + 1]],
        "after_sequence": [kind_of(r) for r in api[post_at + 1:]],
    }


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, 1 + a.warm_transfers)
        bot = ctx.start_bot(sim, "s2-round-trips", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit,
                            GENESYS_RATE_BURST=a.burst)
        per: list[dict[str, Any]] = []
        try:
            bot.wait_ready()
            client = ctx.client(bot)
            for cid in calls:
                before = len(sim.requests)
                ack, = send_commands(client, [f"{cid} Billing"], 1)
                posts = wait_results(ctx.slack, [ack.key], 60, lambda p: is_confirmed(last_result(p)))
                shown = last_result(posts.get(ack.key, []))
                if not is_confirmed(shown):
                    raise RuntimeError(f"transfer of {cid} was not confirmed: {ack.status} {ack.body[:100]} "
                                       f"{shown[:200]}")
                time.sleep(0.2)  # nothing more should come; give a stray request the chance to show
                per.append(split_transfer(sim.requests[before:]))
        finally:
            bot.stop()
    cold, warm = per[0], per[1:]
    warm_up = [w["up_to_post"] for w in warm]
    warm_after = [w["after_post"] for w in warm]
    warm_tokens = [w["token"] for w in warm]
    warm_value = max(warm_up)
    ctx.shared["cold_extra_requests"] = extras = cold["up_to_post"] - warm_value
    spread = "" if len(set(warm_up)) == 1 else f" (min {min(warm_up)})"
    res.add("cold: API requests up to the POST", str(cold["up_to_post"]), "2 + queue look-up (no target)", "info",
            cold["up_to_post"])
    res.add("cold: token requests (POST /oauth/token)", str(cold["token"]), "≤ 1 (readiness may have logged in)",
            "info", cold["token"])
    res.add("cold: reads after the POST (confirmation)", str(cold["after_post"]), "not required (counted apart)",
            "info", cold["after_post"])
    res.add(f"warm: API requests up to the POST (max of {len(warm)})", f"{warm_value}{spread}", "= 2",
            verdict(warm_value == 2), warm_value)
    res.add("warm: token requests", str(max(warm_tokens)), "0", verdict(max(warm_tokens) == 0), max(warm_tokens))
    res.add("warm: reads after the POST (confirmation)", str(max(warm_after)), "not required (counted apart)",
            "info", max(warm_after))
    res.note(f"cold sequence: {' → '.join(cold['sequence'])}; then {cold.get('after_sequence')}.")
    res.note(f"warm sequence: {' → '.join(warm[0]['sequence'])}; then {warm[0].get('after_sequence')}.")
    res.note(f"cold extras over the warm minimum: {extras} rate-limited API request(s) + {cold['token']} token "
             "request(s) (the simulator does not rate-limit /oauth/token). The bot was ready (/readyz) first; "
             "each transfer waited for its confirmed result before the next.")
    res.data = {"cold": cold, "warm": warm}
    return res
