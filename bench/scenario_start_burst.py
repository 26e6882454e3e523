"""1b. Start burst: N slash commands at once, the moment GET /healthz first answers 200.

Each run starts a fresh process with the Genesys simulator delaying every response by --latency
(2 s), polls /healthz every 5 ms, and the moment it answers 200 releases N parked client threads
that each send one signed /transfer. Latency is client-side: request sent (connect included) to
response received. The same burst goes to a plain Bolt app (bench/plain_bolt.py: one command that
only acks, waitress with the bot's thread count) as its own process, in alternating runs
(bot, plain, bot, plain, ...), so both see the same machine at the same time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable

from bench.core import (
    ROOT,
    Ack,
    Context,
    ScenarioResult,
    fire_together,
    http_get,
    latency_rows,
    ms,
    percentile,
    verdict,
)
from bench.sim import live_calls
from tests.kit.env import SIGNING_SECRET
from tests.kit.net import free_port

NAME = "1b. Ack, start burst (N at once at the first /healthz 200)"
P99_TARGET = 0.150
NO_WORSE_FACTOR = 1.10  # "no worse than a plain Bolt app": bot p99 ≤ plain p99 × this (run-to-run noise)
TINY = {"start_runs": 1, "start_commands": 5}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--start-runs", type=int, default=3, help="runs of each app (bot and plain Bolt, alternating)")
    p.add_argument("--start-commands", type=int, default=50, help="commands sent at once at the first /healthz 200")


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.start_runs < 1 or args.start_commands < 1:
        return "--start-runs and --start-commands must be at least 1"
    return None


def wait_first_200(port: int, started: float, alive: Callable[[], bool], timeout: float = 90.0) -> float:
    """Poll GET /healthz every 5 ms; seconds from process start to the first 200."""
    while time.monotonic() - started < timeout:
        if not alive():
            raise RuntimeError("the process exited before /healthz answered")
        with contextlib.suppress(OSError):
            if http_get(port, "/healthz", timeout=1.0)[0] == 200:
                return time.monotonic() - started
        time.sleep(0.005)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout:g} s")


class PlainBolt:
    """`python -m bench.plain_bolt` as its own process."""

    def __init__(self, ctx: Context, threads: int) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
        env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=ctx.slack.bot_token,
                   SLACK_API_URL=ctx.slack.api_url, PYTHONUNBUFFERED="1")
        self.log_path = ctx.workdir / f"{ctx.unique('plain-bolt')}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.plain_bolt", "--port", str(self.port), "--threads", str(threads)],
            cwd=str(ROOT), env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _burst(ctx: Context, port: int, started: float, alive: Callable[[], bool],
           texts: list[str]) -> tuple[list[Ack], float]:
    client = ctx.client(port)
    bodies = [client.command_body(text) for text in texts]
    healthy: list[float] = []
    acks = fire_together(client, bodies, lambda: healthy.append(wait_first_200(port, started, alive)))
    return acks, healthy[0] if healthy else float("nan")


def run_bot(ctx: Context, n: int) -> tuple[list[Ack], float, str]:
    a = ctx.args
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst, latency=a.latency) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, n)
        bot = ctx.start_bot(sim, "s1b-bot", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            acks, healthy = _burst(ctx, bot.port, bot.started, lambda: bot.process.proc.poll() is None,
                                   [f"{cid} Billing" for cid in calls])
            loaded = bot.wait_genesys_loaded()
        finally:
            bot.stop()
    last_ack = max((x.started + x.elapsed for x in acks if x.status), default=float("nan")) - bot.started
    return acks, healthy, f"burst {healthy:.2f}–{last_ack:.2f} s, SDK client loaded at {loaded:.2f} s"


def run_plain(ctx: Context, n: int, threads: int) -> tuple[list[Ack], float]:
    app = PlainBolt(ctx, threads)
    try:
        return _burst(ctx, app.port, app.started, lambda: app.proc.poll() is None,
                      [f"00000000-0000-4000-8000-{i:012d} Billing" for i in range(n)])
    finally:
        app.stop()


def _per_run(runs: list[list[Ack]]) -> str:
    return " / ".join(ms(max((x.elapsed for x in acks), default=float("nan"))) for acks in runs)


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    n = a.start_commands
    threads = int(a.bot_env_overrides.get("HTTP_THREADS", 16))
    bot_runs: list[list[Ack]] = []
    plain_runs: list[list[Ack]] = []
    bot_healthy: list[float] = []
    plain_healthy: list[float] = []
    readiness: list[str] = []
    for _ in range(a.start_runs):
        acks, healthy, ready = run_bot(ctx, n)
        bot_runs.append(acks)
        bot_healthy.append(healthy)
        readiness.append(ready)
        acks, healthy = run_plain(ctx, n, threads)
        plain_runs.append(acks)
        plain_healthy.append(healthy)
    bot_lat = [x.elapsed for run in bot_runs for x in run]
    plain_lat = [x.elapsed for run in plain_runs for x in run]
    bot_ok = sum(1 for run in bot_runs for x in run if x.ok)
    plain_ok = sum(1 for run in plain_runs for x in run if x.ok)
    total = n * a.start_runs
    res.add(f"bot: acks ok ({a.start_runs} runs × {n} at once)", f"{bot_ok} ok", f"{total} ok",
            verdict(bot_ok == total), bot_ok)
    latency_rows(res, "bot: ack latency", bot_lat, p99_target=P99_TARGET)
    res.add("bot: slowest ack in each run", _per_run(bot_runs), "(no target)", "info",
            [max((x.elapsed for x in run), default=None) for run in bot_runs])
    res.add(f"plain Bolt: acks ok ({a.start_runs} runs × {n} at once)", f"{plain_ok} ok", f"{total} ok",
            verdict(plain_ok == total), plain_ok)
    latency_rows(res, "plain Bolt: ack latency", plain_lat, p99_target=None)
    res.add("plain Bolt: slowest ack in each run", _per_run(plain_runs), "(no target)", "info",
            [max((x.elapsed for x in run), default=None) for run in plain_runs])
    # Compared run by run (median over runs of each run's p99), so that one run's outlier on either
    # side (plain Bolt calls auth.test on its first requests) can't decide the verdict alone.
    bot_p99 = percentile([percentile([x.elapsed for x in run], 99) for run in bot_runs if run], 50)
    plain_p99 = percentile([percentile([x.elapsed for x in run], 99) for run in plain_runs if run], 50)
    res.add("bot vs plain Bolt: median over runs of each run's p99", f"{ms(bot_p99)} vs {ms(plain_p99)}",
            f"bot ≤ plain × {NO_WORSE_FACTOR:g} (no worse)", verdict(bot_p99 <= plain_p99 * NO_WORSE_FACTOR),
            bot_p99 / plain_p99 if plain_p99 else None)
    res.add("process start → first /healthz 200: bot / plain Bolt (median)",
            f"{percentile(bot_healthy, 50):.2f} s / {percentile(plain_healthy, 50):.2f} s", "(no target)", "info",
            percentile(bot_healthy, 50))
    res.note(
        f"{a.start_runs} runs of each, alternating bot, plain Bolt, bot, …; each a fresh process. Genesys simulator "
        f"latency {a.latency:g} s on every response (bot only; the plain app never calls Genesys); waitress with "
        f"{threads} threads in both. /healthz polled every 5 ms; {n} client threads parked beforehand send the "
        f"moment it answers 200; latency = client-side, connect+send to the full response. Bot runs, seconds "
        f"after process start (from the first /healthz 200 to the last ack; when /healthz first said the "
        f"Genesys SDK client was built): {'; '.join(readiness)}."
    )
    slow_connects = [sum(1 for run in runs for x in run if x.connect >= 0.9) for runs in (bot_runs, plain_runs)]
    res.note(
        f"Acks whose TCP connect alone took ≥ 0.9 s (a SYN retransmitted: the listener's queue was full or "
        f"not yet served): bot {slow_connects[0]}, plain Bolt {slow_connects[1]}. Slowest connect: bot "
        f"{ms(max((x.connect for run in bot_runs for x in run), default=float('nan')))}, plain Bolt "
        f"{ms(max((x.connect for run in plain_runs for x in run), default=float('nan')))}."
    )
    bad = [(x.status, x.error, x.body[:80]) for run in bot_runs + plain_runs for x in run if not x.ok][:3]
    if bad:
        res.note(f"failed acks: {bad}")
    res.data = {"bot_per_run": [[x.elapsed for x in run] for run in bot_runs],
                "plain_per_run": [[x.elapsed for x in run] for run in plain_runs],
                "bot_connect_per_run": [[x.connect for x in run] for run in bot_runs],
                "plain_connect_per_run": [[x.connect for x in run] for run in plain_runs]}
    return res
