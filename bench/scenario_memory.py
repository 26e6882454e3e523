"""4. Start-up time and resident memory over many transfers, against importing the SDK alone."""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench.core import (
    SLACK_ACK_LIMIT,
    Context,
    ScenarioResult,
    http_get,
    is_confirmed,
    last_result,
    ms,
    send_commands,
    verdict,
    wait_results,
)
from bench.sim import live_calls

NAME = "4. Start-up and memory"
READY_TARGET = 1.0
RSS_TARGET_MB = 300.0
GROWTH_LIMIT_MB = 10.0  # "no growth" = RSS after 2N minus RSS after N is below this
TINY = {"memory_transfers": 20, "early_commands": 3}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-transfers", type=int, default=1000, help="RSS after N and after 2N transfers")
    p.add_argument("--memory-in-flight", type=int, default=16, help="commands in flight")
    p.add_argument("--early-commands", type=int, default=5, help="commands sent right at the first /healthz 200")


def check_arguments(args: argparse.Namespace) -> str | None:
    if min(args.memory_transfers, args.memory_in_flight, args.early_commands) < 1:
        return "--memory-transfers, --memory-in-flight and --early-commands must be at least 1"
    return None


def import_baseline(runs: int = 3) -> tuple[float, float]:
    """Median wall seconds and max RSS (MB) of `python -c "import PureCloudPlatformClientV2"`."""
    times, rss = [], []
    for _ in range(runs):
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", "import PureCloudPlatformClientV2"], cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.monotonic() - started)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"importing PureCloudPlatformClientV2 failed with {proc.returncode}")
        rss.append(usage.ru_maxrss / 1024.0)  # KiB on Linux
    return statistics.median(times), max(rss)


class ReadyzProbe:
    """GET /readyz every second, as a readiness probe would, from now until it answers 200."""

    def __init__(self, port: int, started: float, period: float = 1.0, timeout: float = 120.0) -> None:
        self.at: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(port, started, period, timeout), daemon=True)
        self._thread.start()

    def _poll(self, port: int, started: float, period: float, timeout: float) -> None:
        while time.monotonic() - started < timeout:
            with contextlib.suppress(OSError):
                if http_get(port, "/readyz")[0] == 200:
                    self.at = time.monotonic() - started
                    break
            time.sleep(period)
        self._done.set()

    def wait(self) -> float:
        self._done.wait()
        if self.at is None:
            raise RuntimeError("/readyz never answered 200")
        return self.at


def _batch(ctx: Context, client, calls: list[str], in_flight: int) -> tuple[int, float]:
    started = time.monotonic()
    acks = send_commands(client, [f"{cid} Billing" for cid in calls], in_flight)
    posts = wait_results(ctx.slack, [x.key for x in acks], 120 + 0.5 * len(calls),
                         lambda p: is_confirmed(last_result(p)))
    took = time.monotonic() - started
    return sum(1 for x in acks if x.ok and is_confirmed(last_result(posts.get(x.key, [])))), took


def run(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult(NAME)
    n = a.memory_transfers
    base_time, base_rss = import_baseline(1 if a.tiny else 3)
    with ctx.simulator(rate_limit_per_minute=None) as sim:
        sim.add_queue("Billing")
        early_calls = live_calls(sim, a.early_commands, from_queue="Early")
        calls = live_calls(sim, 2 * n)
        bot = ctx.start_bot(sim, "s4-memory", GENESYS_RATE_LIMIT_PER_MINUTE=100000, GENESYS_RATE_BURST=10000)
        try:
            healthy = bot.wait_healthy()
            probe = ReadyzProbe(bot.port, bot.started)
            client = ctx.client(bot)
            early_acks = send_commands(client, [f"{cid} Billing" for cid in early_calls], len(early_calls))
            loaded = bot.wait_genesys_loaded()
            ready = probe.wait()
            early_posts = wait_results(ctx.slack, [x.key for x in early_acks], 60,
                                       lambda p: is_confirmed(last_result(p)))
            rss_ready = bot.rss_mb()
            batches = []
            for i in range(2):
                done, took = _batch(ctx, client, calls[i * n:(i + 1) * n], a.memory_in_flight)
                time.sleep(1.0)  # idle a moment so in-flight buffers are released
                batches.append((done, took, bot.rss_mb()))
            hwm = bot.hwm_mb()
        finally:
            bot.stop()
    early_max = max(x.elapsed for x in early_acks)
    early_ok = sum(1 for x in early_acks if x.ok and is_confirmed(last_result(early_posts.get(x.key, []))))
    (done1, took1, rss1), (done2, took2, rss2) = batches
    delta = rss2 - rss1
    pct = 100.0 * delta / rss1 if rss1 else float("nan")
    base_runs = "1" if a.tiny else "median of 3"
    res.add(f"baseline: `import PureCloudPlatformClientV2` time ({base_runs})", f"{base_time:.2f} s",
            "baseline (no target)", "info", base_time)
    res.add("baseline: `import PureCloudPlatformClientV2` max RSS", f"{base_rss:.0f} MB", "baseline (no target)",
            "info", base_rss)
    res.add("process start → GET /healthz = 200 (ready to ack)", f"{healthy:.2f} s", f"≤ {READY_TARGET:g} s",
            verdict(healthy <= READY_TARGET), healthy)
    res.add(f"ack of {len(early_acks)} commands sent at the first /healthz 200, max", ms(early_max),
            f"< {SLACK_ACK_LIMIT:.0f} s", verdict(early_max < SLACK_ACK_LIMIT), early_max)
    res.add("process start → Genesys SDK client loaded (/healthz)", f"{loaded:.2f} s",
            f"vs import alone {base_time:.2f} s (no target)", "info", loaded)
    res.add("process start → GET /readyz = 200, probed every 1 s from /healthz 200", f"{ready:.2f} s",
            "(no target)", "info", ready)
    res.add("RSS when ready", f"{rss_ready:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB (import alone {base_rss:.0f} MB)",
            verdict(rss_ready <= RSS_TARGET_MB), rss_ready)
    res.add(f"transfers confirmed ({2 * n} in two batches)", str(done1 + done2), f"= {2 * n}",
            verdict(done1 + done2 == 2 * n), done1 + done2)
    res.add(f"RSS after {n} transfers", f"{rss1:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB", verdict(rss1 <= RSS_TARGET_MB),
            rss1)
    res.add(f"RSS after {2 * n} transfers", f"{rss2:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(rss2 <= RSS_TARGET_MB), rss2)
    res.add(f"RSS growth {n} → {2 * n} transfers", f"{delta:+.1f} MB ({pct:+.1f}%)", f"< {GROWTH_LIMIT_MB:g} MB",
            verdict(delta < GROWTH_LIMIT_MB), delta)
    res.add("peak RSS (VmHWM)", f"{hwm:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB", verdict(hwm <= RSS_TARGET_MB), hwm)
    res.note(
        f"Rate limits raised (simulator unlimited, bot 100000/min burst 10000); {a.memory_in_flight} commands in "
        f"flight; throughput {done1 / took1:.0f} and {done2 / took2:.0f} confirmed transfers/s. Early commands "
        f"confirmed: {early_ok}/{len(early_acks)}. 'No growth' means the RSS delta between the two batches "
        f"is below {GROWTH_LIMIT_MB:g} MB (absolute)."
    )
    return res
