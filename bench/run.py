"""The benchmark for issue #4: `python -m bench` from the repo root (see --help).

Drives a real `python app.py --http` subprocess with signed slash commands against the in-process
Genesys simulator and a fake Slack, all on 127.0.0.1, and prints one table in which every figure
sits next to the limit it is compared with. Scenarios:

1. ack latency while Genesys answers slowly;
2. Genesys round trips per transfer, cold and warm (from the simulator's request log);
3. a burst of transfers under the Genesys rate limit (completed/failed/duplicated/429s/wall time);
4. start-up time and resident memory over many transfers, against importing the SDK alone.

It is a measurement, not a test: missed targets are reported, never raised. The exit status is
non-zero only when a scenario could not be run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    ROOT,
    BotProcess,
    Row,
    ScenarioResult,
    SlackSink,
    bot_env,
    percentile,
    quiet_disconnects,
    send_commands,
)
from bot.simulator import GenesysSimulator, RecordedRequest

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.md"
SLACK_ACK_LIMIT = 3.0  # seconds: Slack shows operation_timeout after this
ACK_P99_TARGET = 0.100
WALL_FACTOR_TARGET = 1.15
READY_TARGET = 1.0
RSS_TARGET_MB = 300.0
GROWTH_LIMIT_MB = 10.0  # "no growth" = RSS after 2N minus RSS after N is below this

_CALL = re.compile(r"^/api/v2/conversations/calls/([^/]+)$")
_REPLACE = re.compile(r"^/api/v2/conversations/([^/]+)/participants/[^/]+/replace/queue$")
_QUEUES = re.compile(r"^/api/v2/routing/queues(/[^/]+)?$")


# ---------------------------------------------------------------------------------------------
# helpers


def kind_of(rec: RecordedRequest) -> str:
    if rec.path == "/oauth/token":
        return "token"
    if rec.method == "GET" and _CALL.match(rec.path):
        return "get_call"
    if rec.method == "POST" and _REPLACE.match(rec.path):
        return "replace"
    if rec.method == "GET" and _QUEUES.match(rec.path):
        return "queues"
    return f"{rec.method} {rec.path}"


def conversation_of(rec: RecordedRequest) -> str | None:
    m = _CALL.match(rec.path) or _REPLACE.match(rec.path)
    return m.group(1) if m else None


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


class Context:
    """What every scenario shares: options, the fake Slack, a temp dir, and the processes to clean up."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.sink = SlackSink().start()
        self._db = 0
        self.cold_extra_requests: int | None = None  # from scenario 2, for scenario 3

    def database_url(self) -> str:
        self._db += 1
        return f"sqlite:///{self.workdir / f'bot-{self._db}.db'}"

    def simulator(self, **kw: Any) -> GenesysSimulator:
        sim = GenesysSimulator(**kw).start()
        quiet_disconnects(sim)
        return sim

    def start_bot(self, sim: GenesysSimulator, name: str, **env: Any) -> BotProcess:
        env.update(self.args.bot_env_overrides)
        return BotProcess(bot_env(self.sink, sim, self.database_url(), **env), self.workdir, name)

    def close(self) -> None:
        self.sink.stop()


def live_calls(sim: GenesysSimulator, count: int, from_queue: str = "Sales") -> list[str]:
    source = sim.add_queue(from_queue)
    return [sim.add_call(scenario="connected", queue=source).id for _ in range(count)]


def run_transfers(
    ctx: Context, bot: BotProcess, call_ids: list[str], queue: str, in_flight: int, timeout: float
) -> tuple[list, dict]:
    """Send `/transfer <call> <queue>` for every call and wait (bounded) for every Slack result."""
    acks = send_commands(bot.port, ctx.sink, [f"{cid} {queue}" for cid in call_ids], in_flight)
    results = ctx.sink.wait_results([a.key for a in acks if a.ok], timeout)
    return acks, results


# ---------------------------------------------------------------------------------------------
# 1. ack latency under a slow Genesys


def scenario_ack(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult("1. Ack under slow Genesys")
    name = res.name
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst, latency=a.latency) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, a.commands)
        bot = ctx.start_bot(sim, "s1-ack", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            bot.wait_healthy()
            bot.wait_genesys_ready()
            acks = send_commands(bot.port, ctx.sink, [f"{cid} Billing" for cid in calls], a.in_flight)
        finally:
            bot.stop()
    lat = [x.elapsed for x in acks]
    bad = [x for x in acks if not x.ok]
    over = sum(1 for v in lat if v > SLACK_ACK_LIMIT)
    p99 = percentile(lat, 99)
    res.rows += [
        Row(name, f"acks ({a.commands} commands, {a.in_flight} in flight)", f"{len(acks) - len(bad)} ok",
            f"{a.commands} ok", verdict(not bad), len(acks) - len(bad)),
        Row(name, "ack latency p50", ms(percentile(lat, 50)), "(target is on p99)", "info", percentile(lat, 50)),
        Row(name, "ack latency p95", ms(percentile(lat, 95)), "(target is on p99)", "info", percentile(lat, 95)),
        Row(name, "ack latency p99", ms(p99), f"< {ms(ACK_P99_TARGET)}", verdict(p99 < ACK_P99_TARGET), p99),
        Row(name, "ack latency max", ms(max(lat)), f"< {SLACK_ACK_LIMIT:.0f} s", verdict(max(lat) < SLACK_ACK_LIMIT),
            max(lat)),
        Row(name, "acks over 3 s (operation_timeout)", str(over), "0", verdict(over == 0), over),
    ]
    res.notes.append(
        f"Genesys simulator latency {a.latency:g} s on every response; rate limit {a.rate_limit}/min burst "
        f"{a.burst} (bot paced the same); the bot's Genesys client was loaded before the first command. "
        "Latency = client-side time from connect+send to the full HTTP response, new connection per request."
    )
    if bad:
        res.notes.append(f"failed acks: {[(x.status, x.error, x.body[:80]) for x in bad[:3]]}")
    return res


# ---------------------------------------------------------------------------------------------
# 2. round trips per transfer


def _split_transfer(reqs: list[RecordedRequest]) -> dict[str, Any]:
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


def scenario_round_trips(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult("2. Round trips per transfer")
    name = res.name
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, 1 + a.warm_transfers)
        bot = ctx.start_bot(sim, "s2-round-trips", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit,
                            GENESYS_RATE_BURST=a.burst)
        per: list[dict[str, Any]] = []
        try:
            bot.wait_healthy()
            bot.wait_genesys_ready()
            for cid in calls:
                before = len(sim.requests)
                acks, results = run_transfers(ctx, bot, [cid], "Billing", 1, timeout=60)
                result = results.get(acks[0].key)
                if result is None or not result.succeeded:
                    raise RuntimeError(f"transfer of {cid} did not succeed: {result and result.text[:200]}")
                time.sleep(0.2)  # nothing more should come; give a stray request the chance to show
                per.append(_split_transfer(sim.requests[before:]))
        finally:
            bot.stop()
    cold, warm = per[0], per[1:]
    warm_up = [w["up_to_post"] for w in warm]
    warm_after = [w["after_post"] for w in warm]
    warm_tokens = [w["token"] for w in warm]
    warm_value = max(warm_up)
    ctx.cold_extra_requests = cold["up_to_post"] - warm_value
    spread = "" if len(set(warm_up)) == 1 else f" (min {min(warm_up)})"
    res.rows += [
        Row(name, "cold: API requests up to the POST", str(cold["up_to_post"]), "2 + queue look-up (no target)",
            "info", cold["up_to_post"]),
        Row(name, "cold: token requests (POST /oauth/token)", str(cold["token"]), "1 login (no target)", "info",
            cold["token"]),
        Row(name, "cold: verification reads after the POST", str(cold["after_post"]), "not required (counted apart)",
            "info", cold["after_post"]),
        Row(name, f"warm: API requests up to the POST (max of {len(warm)})", f"{warm_value}{spread}", "= 2",
            verdict(warm_value == 2), warm_value),
        Row(name, "warm: token requests", str(max(warm_tokens)), "0", verdict(max(warm_tokens) == 0),
            max(warm_tokens)),
        Row(name, "warm: verification reads after the POST", str(max(warm_after)), "not required (counted apart)",
            "info", max(warm_after)),
    ]
    res.notes.append(f"cold sequence: {' → '.join(cold['sequence'])}; then {cold['after_sequence']}.")
    res.notes.append(f"warm sequence: {' → '.join(warm[0]['sequence'])}; then {warm[0]['after_sequence']}.")
    res.notes.append(
        f"cold extras over the warm minimum: {ctx.cold_extra_requests} rate-limited API request(s) "
        f"+ {cold['token']} token request(s) (the simulator does not rate-limit /oauth/token)."
    )
    res.data = {"cold": cold, "warm": warm}
    return res


# ---------------------------------------------------------------------------------------------
# 3. burst under the rate limit


def _read_kind(rec: RecordedRequest, post_time: dict[str | None, float]) -> str:
    """kind_of(), with call reads split into the one before the conversation's POST and verification reads."""
    kind = kind_of(rec)
    if kind != "get_call":
        return kind
    cid = conversation_of(rec)
    return "verify_read" if cid in post_time and rec.at > post_time[cid] else "call_read"


def scenario_burst(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult("3. Burst under the rate limit")
    name = res.name
    n = a.burst_transfers
    rate_per_s = a.rate_limit / 60.0
    cold_extras = ctx.cold_extra_requests if ctx.cold_extra_requests is not None else 1
    required = 2 * n + cold_extras
    minimum = max(0.0, (required - a.burst) / rate_per_s)
    with ctx.simulator(rate_limit_per_minute=a.rate_limit, burst=a.burst) as sim:
        sim.add_queue("Billing")
        calls = live_calls(sim, n)
        bot = ctx.start_bot(sim, "s3-burst", GENESYS_RATE_LIMIT_PER_MINUTE=a.rate_limit, GENESYS_RATE_BURST=a.burst)
        try:
            bot.wait_healthy()
            bot.wait_genesys_ready()
            sim.reset_requests()
            acks, results = run_transfers(ctx, bot, calls, "Billing", n, timeout=max(120.0, 3 * minimum + 60))
            time.sleep(0.5)  # let trailing verification reads land in the log
            reqs = sim.requests
            executed = sim.transfers
            count_429 = sim.count_429
        finally:
            bot.stop()
    t0 = min(x.started for x in acks)
    ok_acks = [x for x in acks if x.ok]
    succeeded_convs = {cid for cid, ack in zip(calls, acks, strict=True)
                       if ack.ok and ack.key in results and results[ack.key].succeeded}
    posts_ok = Counter(conversation_of(r) for r in reqs if kind_of(r) == "replace" and r.status == 202)
    executed_by_conv = Counter(t.conversation_id for t in executed)
    completed = sum(1 for cid in calls if cid in succeeded_convs and executed_by_conv[cid] >= 1)
    failed = n - completed
    duplicated = sum(1 for cid in calls if max(posts_ok[cid], executed_by_conv[cid]) > 1)
    unconfirmed = sum(1 for x in results.values() if x.succeeded and not x.confirmed)

    # classify every admitted API request relative to its own conversation's successful POST
    post_time = {conversation_of(r): r.at for r in reqs if kind_of(r) == "replace" and r.status == 202}
    kinds = Counter((_read_kind(r, post_time), r.status == 429) for r in reqs)
    admitted = {k: c for (k, was_429), c in kinds.items() if not was_429}
    limited = {k: c for (k, was_429), c in kinds.items() if was_429}
    last_exec = max((t.at for t in executed), default=float("nan")) - t0
    last_result = max((x.at for x in results.values()), default=float("nan")) - t0
    before_last_post = [r for r in reqs if kind_of(r) not in ("token",) and r.status != 429
                        and r.at <= t0 + last_exec]
    before_kinds = Counter(_read_kind(r, post_time) for r in before_last_post)
    ratio = last_exec / minimum if minimum > 0 else float("nan")
    waits = [results[x.key].at - x.started for x in ok_acks if x.key in results]
    res.rows += [
        Row(name, f"completed ({n} transfers at once)", str(completed), f"= {n}", verdict(completed == n), completed),
        Row(name, "failed", str(failed), "0", verdict(failed == 0), failed),
        Row(name, "duplicated (>1 successful replace/queue per call)", str(duplicated), "0",
            verdict(duplicated == 0), duplicated),
        Row(name, "429s received", "0 (client paced itself)" if count_429 == 0 else str(count_429),
            "0 wanted (no target)", "info", count_429),
        Row(name, "required requests (2/transfer + cold extras)", str(required),
            f"{2 * n} + {cold_extras}", "info", required),
        Row(name, "API requests admitted up to the last transfer", str(len(before_last_post)),
            f"{required} required", "info", len(before_last_post)),
        Row(name, "queue look-ups (GET /routing/queues)", str(admitted.get("queues", 0)), "1 needed (one queue)",
            "info", admitted.get("queues", 0)),
        Row(name, "verification reads (not required)", str(admitted.get("verify_read", 0)),
            f"{before_kinds.get('verify_read', 0)} before the last transfer", "info", admitted.get("verify_read", 0)),
        Row(name, "minimum wall time (required − burst) / rate", f"{minimum:.1f} s",
            f"({required} − {a.burst}) / {rate_per_s:g}/s", "info", minimum),
        Row(name, "wall: first command → last transfer executed", f"{last_exec:.1f} s ({ratio:.2f}×)",
            f"≤ {WALL_FACTOR_TARGET * minimum:.1f} s ({WALL_FACTOR_TARGET}×)",
            verdict(completed == n and last_exec <= WALL_FACTOR_TARGET * minimum), last_exec),
        Row(name, "wall: first command → last Slack result", f"{last_result:.1f} s", f"min {minimum:.1f} s", "info",
            last_result),
        Row(name, "each user's wait, command → own Slack result: p50 / max",
            f"{percentile(waits, 50):.1f} s / {max(waits, default=float('nan')):.1f} s",
            f"max ≥ min {minimum:.1f} s (no target)", "info",
            percentile(waits, 50)),
    ]
    if count_429 == 0:
        res.notes.append("No 429s arrived: the bot's client-side limiter paced itself under the simulator's limit.")
    else:
        at = ", ".join(f"{r.at - t0:.1f}" for r in reqs if r.status == 429)
        res.notes.append(f"429s by kind: {limited}; at t = {at} s after the first command.")
    res.notes.append(
        f"Simulator and bot both at {a.rate_limit}/min, burst {a.burst}; bot defaults otherwise "
        f"{a.bot_env_overrides or '(TRANSFER_WORKERS=32)'}. Acks ok: {len(ok_acks)}/{n}; "
        f"results 'Transfer sent' (not yet confirmed): {unconfirmed}. "
        f"Admitted API requests by kind: {dict(admitted)}; before the last transfer: {dict(before_kinds)}."
    )
    res.data = {"admitted": dict(admitted), "before_last": dict(before_kinds), "minimum": minimum,
                "last_exec": last_exec, "last_result": last_result, "required": required}
    return res


# ---------------------------------------------------------------------------------------------
# 4. start-up and memory


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


def scenario_memory(ctx: Context) -> ScenarioResult:
    a = ctx.args
    res = ScenarioResult("4. Start-up and memory")
    name = res.name
    n = a.memory_transfers
    base_time, base_rss = import_baseline()
    with ctx.simulator(rate_limit_per_minute=None) as sim:
        sim.add_queue("Billing")
        early_calls = live_calls(sim, a.early_commands, from_queue="Early")
        calls = live_calls(sim, 2 * n)
        bot = ctx.start_bot(sim, "s4-memory", GENESYS_RATE_LIMIT_PER_MINUTE=100000, GENESYS_RATE_BURST=10000)
        try:
            ready = bot.wait_healthy()
            early_acks, early_results = run_transfers(ctx, bot, early_calls, "Billing", len(early_calls), 60)
            sdk_ready = bot.wait_genesys_ready()
            rss_ready = bot.rss_mb()
            batches = []
            for i in range(2):
                chunk = calls[i * n:(i + 1) * n]
                started = time.monotonic()
                acks, results = run_transfers(ctx, bot, chunk, "Billing", a.memory_in_flight, 120 + 0.5 * n)
                took = time.monotonic() - started
                done = sum(1 for x in acks if x.ok and x.key in results and results[x.key].succeeded)
                time.sleep(1.0)  # idle a moment so in-flight buffers are released
                batches.append((done, took, bot.rss_mb()))
            hwm = bot.hwm_mb()
        finally:
            bot.stop()
    early_max = max(x.elapsed for x in early_acks)
    early_ok = sum(1 for x in early_acks if x.ok and x.key in early_results and early_results[x.key].succeeded)
    (done1, took1, rss1), (done2, took2, rss2) = batches
    delta = rss2 - rss1
    pct = 100.0 * delta / rss1 if rss1 else float("nan")
    res.rows += [
        Row(name, "baseline: `import PureCloudPlatformClientV2` time (median of 3)", f"{base_time:.2f} s",
            "baseline (no target)", "info", base_time),
        Row(name, "baseline: `import PureCloudPlatformClientV2` max RSS", f"{base_rss:.0f} MB",
            "baseline (no target)", "info", base_rss),
        Row(name, "process start → GET /healthz = 200 (ready to ack)", f"{ready:.2f} s", f"≤ {READY_TARGET:g} s",
            verdict(ready <= READY_TARGET), ready),
        Row(name, f"ack of {len(early_acks)} commands sent at healthz (SDK still loading), max", ms(early_max),
            f"< {SLACK_ACK_LIMIT:.0f} s", verdict(early_max < SLACK_ACK_LIMIT), early_max),
        Row(name, "process start → Genesys SDK client ready", f"{sdk_ready:.2f} s",
            f"vs import alone {base_time:.2f} s (no target)", "info", sdk_ready),
        Row(name, "RSS when the SDK client is ready", f"{rss_ready:.0f} MB",
            f"≤ {RSS_TARGET_MB:.0f} MB (import alone {base_rss:.0f} MB)",
            verdict(rss_ready <= RSS_TARGET_MB), rss_ready),
        Row(name, f"transfers completed ({2 * n} in two batches)", str(done1 + done2), f"= {2 * n}",
            verdict(done1 + done2 == 2 * n), done1 + done2),
        Row(name, f"RSS after {n} transfers", f"{rss1:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(rss1 <= RSS_TARGET_MB), rss1),
        Row(name, f"RSS after {2 * n} transfers", f"{rss2:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB",
            verdict(rss2 <= RSS_TARGET_MB), rss2),
        Row(name, f"RSS growth {n} → {2 * n} transfers", f"{delta:+.1f} MB ({pct:+.1f}%)",
            f"< {GROWTH_LIMIT_MB:g} MB", verdict(delta < GROWTH_LIMIT_MB), delta),
        Row(name, "peak RSS (VmHWM)", f"{hwm:.0f} MB", f"≤ {RSS_TARGET_MB:.0f} MB", verdict(hwm <= RSS_TARGET_MB),
            hwm),
    ]
    res.notes.append(
        f"Rate limits raised (simulator unlimited, bot 100000/min burst 10000); {a.memory_in_flight} commands in "
        f"flight; throughput {done1 / took1:.0f} and {done2 / took2:.0f} transfers/s. Early commands that "
        f"succeeded: {early_ok}/{len(early_acks)}. 'No growth' means the RSS delta between the two batches "
        f"is below {GROWTH_LIMIT_MB:g} MB (absolute)."
    )
    return res


# ---------------------------------------------------------------------------------------------
# report


SCENARIOS: dict[str, Callable[[Context], ScenarioResult]] = {
    "1": scenario_ack,
    "2": scenario_round_trips,
    "3": scenario_burst,
    "4": scenario_memory,
}


def machine_header(args: argparse.Namespace) -> list[str]:
    cores = os.cpu_count()
    mem = cpu = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        rev = "?"
    flags = " ".join(sys.argv[1:]) or "(defaults)"
    return [
        "# Transfer bot benchmark",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- Machine: {cores} cores ({cpu}), {mem} RAM (MemTotal), {platform.system()} {platform.release()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- Commit: {rev}; flags: {flags}",
        "",
    ]


def render(results: list[ScenarioResult], args: argparse.Namespace) -> str:
    lines = machine_header(args)
    lines += ["| Scenario | Measure | Value | Limit | Result |", "|---|---|---|---|---|"]
    for res in results:
        if res.error:
            lines.append(f"| {res.name} | (scenario could not run) | ERROR | | ERROR |")
            continue
        for row in res.rows:
            lines.append(f"| {row.scenario} | {row.measure} | {row.value} | {row.limit} | {row.verdict} |")
    lines.append("")
    for res in results:
        if res.notes or res.error:
            lines.append(f"**{res.name}**")
            lines += [f"- {note}" for note in res.notes]
            if res.error:
                lines.append(f"- ERROR: {res.error}")
            lines.append("")
    met = sum(1 for r in results for row in r.rows if row.verdict == "met")
    missed = [f"{row.scenario}: {row.measure}" for r in results for row in r.rows if row.verdict == "MISSED"]
    lines.append(f"Targets met: {met}; missed: {len(missed)}" + (f" ({'; '.join(missed)})" if missed else ""))
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description="Benchmark the Slack /transfer bot (issue #4).")
    p.add_argument("--scenarios", default="1,2,3,4", help="comma-separated subset of 1,2,3,4")
    p.add_argument("--commands", type=int, default=200, help="scenario 1: slash commands to send")
    p.add_argument("--in-flight", type=int, default=50, help="scenario 1: commands in flight")
    p.add_argument("--latency", type=float, default=2.0, help="scenario 1: simulator latency per response (s)")
    p.add_argument("--warm-transfers", type=int, default=3, help="scenario 2: warm transfers after the cold one")
    p.add_argument("--burst-transfers", type=int, default=100, help="scenario 3: transfers sent at once")
    p.add_argument("--rate-limit", type=int, default=300, help="Genesys requests/minute (simulator and bot)")
    p.add_argument("--burst", type=int, default=10, help="Genesys token-bucket burst (simulator and bot)")
    p.add_argument("--memory-transfers", type=int, default=1000, help="scenario 4: RSS after N and after 2N")
    p.add_argument("--memory-in-flight", type=int, default=16, help="scenario 4: commands in flight")
    p.add_argument("--early-commands", type=int, default=5, help="scenario 4: commands sent right at healthz")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the Markdown table")
    p.add_argument("--json", type=Path, default=None, help="also write raw figures as JSON here")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with bot logs and databases")
    p.add_argument("--bot-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for every bot process (wins over the scenario's), e.g. TRANSFER_WORKERS=128")
    args = p.parse_args(argv)
    args.bot_env_overrides = {}
    for item in args.bot_env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            p.error(f"--bot-env expects NAME=VALUE, got {item!r}")
        args.bot_env_overrides[key] = value
    for flag in ("commands", "in_flight", "burst_transfers", "memory_transfers", "memory_in_flight",
                 "early_commands", "rate_limit", "burst"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.warm_transfers < 1:
        p.error("--warm-transfers must be at least 1")
    args.scenario_list = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenario_list if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s): {unknown}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="transfer-bot-bench-"))
    ctx = Context(args, workdir)
    results: list[ScenarioResult] = []
    try:
        for key in args.scenario_list:
            started = time.monotonic()
            print(f"running scenario {key} ...", file=sys.stderr, flush=True)
            try:
                res = SCENARIOS[key](ctx)
            except Exception as error:
                res = ScenarioResult(SCENARIOS[key].__name__, error=f"{type(error).__name__}: {error}")
                traceback.print_exc()
            print(f"  scenario {key} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            results.append(res)
    finally:
        ctx.close()
        if args.keep_logs:
            print(f"logs and databases kept in {workdir}", file=sys.stderr)
        else:
            for path in sorted(workdir.glob("*"), reverse=True):
                path.unlink(missing_ok=True)
            workdir.rmdir()
    report = render(results, args)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    if args.json:
        payload = [
            {"scenario": r.name, "error": r.error, "notes": r.notes,
             "rows": [{"measure": x.measure, "value": x.value, "limit": x.limit, "verdict": x.verdict, "raw": x.raw}
                      for x in r.rows]}
            for r in results
        ]
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 1 if any(r.error for r in results) else 0
