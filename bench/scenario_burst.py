"""3. A burst of transfers at once under the Genesys rate limit, until every result is confirmed.

All N commands are sent at once (N in flight). The simulator completes each transfer right away;
the bot must read Genesys to confirm it (within the same rate budget, behind the transfers) and
then edit the result in place. The run waits (bounded) until every result has reached an ending.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bench.core import (
    NOT_YET_CONFIRMED,
    Context,
    ScenarioResult,
    channel_results,
    flat,
    is_confirmed,
    is_final,
    last_result,
    percentile,
    send_commands,
    verdict,
    wait_results,
)
from bench.sim import conversation_of, kind_of, live_calls
from bot.simulator import RecordedRequest

NAME = "3. Burst under the rate limit"
WALL_FACTOR_TARGET = 1.15
TINY = {"burst_transfers": 5}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--burst-transfers", type=int, default=100, help="transfers sent at once")


def check_arguments(args: argparse.Namespace) -> str | None:
    return "--burst-transfers must be at least 1" if args.burst_transfers < 1 else None


def _read_kind(rec: RecordedRequest, post_time: dict[str | None, float]) -> str:
    """kind_of(), with call reads split into the one before the conversation's POST and the reads after it."""
    kind = kind_of(rec)
    if kind != "get_call":
        return kind
    cid = conversation_of(rec)
    return "confirm_read" if cid in post_time and rec.at > post_time[cid] else "call_read"


def _confirmed_at(posts: list) -> float | None:
    """When the channel first showed the confirmed wording (None: never)."""
    return next((p.at for p in channel_results(posts) if is_confirmed(flat(p.payload))), None)


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    n = a.burst_transfers
    rate_per_s = a.rate_limit / 60.0
    cold_extras = ctx.shared.get("cold_extra_requests", 1)
    required = 2 * n + cold_extras
    minimum = max(0.0, (required - a.burst) / rate_per_s)
    with_reads = max(0.0, (required + n - a.burst) / rate_per_s)
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, n)
        bot = ctx.start_bot(sim, "s3-burst", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            bot.wait_ready()
            sim.reset_requests()
            acks = send_commands(ctx.client(bot), [f"{cid} Billing" for cid in calls], n)
            keys = [x.key for x in acks]
            posts = wait_results(ctx.slack, keys, max(180.0, 5 * with_reads + 120),
                                 lambda p: is_final(last_result(p)), poll=0.1)
            time.sleep(0.5)  # let trailing reads land in the log
            reqs = sim.requests
            executed = sim.transfers
            count_429 = sim.count_429
        finally:
            bot.stop()
    t0 = min(x.started for x in acks)
    ok_acks = [x for x in acks if x.ok]
    shown = {k: last_result(posts.get(k, [])) for k in keys}
    confirmed = sum(1 for k in keys if is_confirmed(shown[k]))
    unconfirmed = sum(1 for k in keys if NOT_YET_CONFIRMED in shown[k])
    no_result = sum(1 for k in keys if not shown[k])
    posts_ok = Counter(conversation_of(r) for r in reqs if kind_of(r) == "replace" and r.status == 202)
    executed_by_conv = Counter(t.conversation_id for t in executed)
    completed = sum(1 for cid in calls if executed_by_conv[cid] >= 1)
    duplicated = sum(1 for cid in calls if max(posts_ok[cid], executed_by_conv[cid]) > 1)
    extra_messages = sum(1 for k in keys if len([p for p in posts.get(k, []) if not p.payload.get("replace_original")
                                                 and p.payload.get("response_type") == "in_channel"]) > 1)

    post_time = {conversation_of(r): r.at for r in reqs if kind_of(r) == "replace" and r.status == 202}
    kinds = Counter((_read_kind(r, post_time), r.status == 429) for r in reqs)
    admitted = {k: c for (k, was_429), c in kinds.items() if not was_429}
    limited = {k: c for (k, was_429), c in kinds.items() if was_429}
    last_exec = max((t.at for t in executed), default=float("nan")) - t0
    confirmed_at = [t for t in (_confirmed_at(posts.get(k, [])) for k in keys) if t is not None]
    last_confirmed = max(confirmed_at, default=float("nan")) - t0
    before_last_post = [r for r in reqs if kind_of(r) != "token" and r.status != 429 and r.at <= t0 + last_exec]
    before_kinds = Counter(_read_kind(r, post_time) for r in before_last_post)
    ratio = last_exec / minimum if minimum > 0 else float("nan")
    ratio_confirmed = last_confirmed / minimum if minimum > 0 else float("nan")
    waits = [t - x.started for x in ok_acks if (t := _confirmed_at(posts.get(x.key, []))) is not None]

    res.add(f"transfers executed ({n} sent at once)", str(completed), f"= {n}", verdict(completed == n), completed)
    res.add("failed (not executed)", str(n - completed), "0", verdict(completed == n), n - completed)
    res.add("duplicated (>1 successful replace/queue per call)", str(duplicated), "0", verdict(duplicated == 0),
            duplicated)
    res.add("Slack results confirmed at the end", f"{confirmed}/{n}", f"= {n}/{n}", verdict(confirmed == n),
            confirmed)
    res.add("Slack results left 'not yet confirmed'", str(unconfirmed), "0", verdict(unconfirmed == 0), unconfirmed)
    res.add("commands with no result in the channel", str(no_result), "0", verdict(no_result == 0), no_result)
    res.add("results posted as a second message (not edited in place)", str(extra_messages), "0",
            verdict(extra_messages == 0), extra_messages)
    res.add("429s received", "0 (client paced itself)" if count_429 == 0 else str(count_429), "0 wanted (no target)",
            "info", count_429)
    res.add("required requests (2/transfer + cold extras)", str(required), f"{2 * n} + {cold_extras}", "info",
            required)
    res.add("API requests admitted up to the last transfer", str(len(before_last_post)), f"{required} required",
            "info", len(before_last_post))
    res.add("confirmation reads (GET call after its POST)", str(admitted.get("confirm_read", 0)),
            f"{before_kinds.get('confirm_read', 0)} before the last transfer", "info", admitted.get("confirm_read", 0))
    res.add("minimum wall time (required − burst) / rate", f"{minimum:.1f} s",
            f"({required} − {a.burst}) / {rate_per_s:g}/s", "info", minimum)
    res.add("wall: first command → last transfer executed", f"{last_exec:.1f} s ({ratio:.2f}×)",
            f"≤ {WALL_FACTOR_TARGET * minimum:.1f} s ({WALL_FACTOR_TARGET}×)",
            verdict(completed == n and last_exec <= WALL_FACTOR_TARGET * minimum), last_exec)
    res.add("wall: first command → last confirmed result", f"{last_confirmed:.1f} s ({ratio_confirmed:.2f}×)",
            f"vs minimum {minimum:.1f} s; {with_reads:.1f} s with one read per transfer (no target)", "info",
            last_confirmed)
    res.add("each user's wait, command → own confirmed result: p50 / max",
            f"{percentile(waits, 50):.1f} s / {max(waits, default=float('nan')):.1f} s", "(no target)", "info",
            percentile(waits, 50))
    if count_429 == 0:
        res.note("No 429s arrived: the bot's client-side limiter paced itself under the simulator's limit.")
    else:
        at = ", ".join(f"{r.at - t0:.1f}" for r in reqs if r.status == 429)
        res.note(f"429s by kind: {limited}; at t = {at} s after the first command.")
    res.note(
        f"Simulator and bot both at {a.rate_limit}/min, burst {a.burst}; bot defaults otherwise "
        f"{a.bot_env_overrides or '(TRANSFER_WORKERS=32)'}. Acks ok: {len(ok_acks)}/{n}. The simulator completes "
        f"each transfer at once; the bot confirms it from the call's recentTransfers and edits the result in "
        f"place. Admitted API requests by kind: {dict(admitted)}; before the last transfer: {dict(before_kinds)}."
    )
    stuck = [shown[k][:160] for k in keys if not is_confirmed(shown[k])][:3]
    if stuck:
        res.note(f"results not confirmed (first 3): {stuck}")
    res.data = {"admitted": dict(admitted), "before_last": dict(before_kinds), "minimum": minimum,
                "last_exec": last_exec, "last_confirmed": last_confirmed, "required": required}
    return res
