"""The benchmark: `python -m bench` (or `make bench ARGS=...`) from the repo root; see --help.

Drives the bot as its own OS process (`python app.py --http`) with signed Slack requests against
the in-process Genesys simulator and the fake Slack, all on 127.0.0.1, and prints one Markdown
table in which every figure sits next to the limit it is compared with. It is a measurement, not
a test: missed targets are reported (MISSED), never raised. The exit status is non-zero only when
a scenario could not run at all (its row says ERROR).

Scenarios (key: module):
  1   steady acks: N commands, 50 in flight, Genesys slow          bench/scenario_ack.py
  1b  start burst: 50 commands at the first /healthz 200, vs a
      plain Bolt app (bench/plain_bolt.py), alternating runs      bench/scenario_start_burst.py
  2   Genesys round trips per transfer, cold and warm              bench/scenario_round_trips.py
  3   100 transfers at once under the rate limit; results edited
      in place until all are confirmed                             bench/scenario_burst.py
  4   start-up time and resident memory                            bench/scenario_memory.py
  5   options (queue typeahead) latency with Genesys at 2 s        bench/scenario_options.py
  6   fault run                                                    bench/scenario_faults.py
  7   shutdown under load                                          bench/scenario_shutdown.py
(6 and 7 are registered when their modules exist.)

Writing a scenario
------------------
A scenario is a module with

    NAME = "6. Fault run"                        # the title of its rows: ScenarioResult(NAME)
    def add_arguments(parser): ...               # optional: its own flags (argparse group)
    def check_arguments(args) -> str | None: ... # optional: a problem with them, or None
    TINY = {"fault_transfers": 5}                # optional: flag dest -> value under --tiny
    def smoke_check(rows) -> list[str]: ...      # optional: see below
    def run(ctx: Context) -> ScenarioResult: ... # required

and one line in SCENARIOS below (6 and 7 are there already, imported when their files exist).
Import only from bench.core and bench.sim (never bench.run). A scenario that raises is reported
as ERROR and the run goes on. bench.core gives:

- Context (ctx): `ctx.args` (all flags; `ctx.args.tiny` for the smoke test's tiny run; global
  `rate_limit`, `burst`, `latency`), `ctx.workdir`, `ctx.slack` (one FakeSlack for the run),
  `ctx.shared` (figures for later scenarios), `ctx.simulator(**kw)` (a started GenesysSimulator;
  use `with`), `ctx.database_url(name=None)` (same name = same SQLite file, for restarts),
  `ctx.start_bot(sim, "name", database_url=..., **env)` -> Bot, `ctx.client(bot)` -> the kit's
  SlackClientSide (command_body/command/interaction/click/event, signed).
- Bot: the kit's BotProcess on a free port: `.port`, `.pid`, `.started`, `.wait_healthy()`,
  `.wait_ready()` (seconds since start), `.terminate()` (SIGTERM, seconds to exit), `.stop()`,
  `.log()`, `.rss_mb()`, `.hwm_mb()`, `.process` (the BotProcess itself).
- Timing: `post_signed(client, body, key)` -> Ack (status, body, started, elapsed; errors returned,
  not raised), `send_commands(client, texts, in_flight)`, `fire_together(client, bodies, trigger)` (threads
  parked, then all post the moment trigger() returns); Ack.connect is the TCP connect alone.
- Slack's side: `slack_results(slack, keys)`, `wait_results(slack, keys, timeout, done=...)`
  (posts per response_url key, time-stamped with time.monotonic(), the simulator's clock), `flat()`.
- A result's wording (bot/slack/render/describe.py): `last_result(posts)` (what the channel shows
  now), `is_confirmed(text)`, `is_final(text)`, `NOT_YET_CONFIRMED`, `channel_results(posts)`.
- bench.sim: `live_calls(sim, n)` (connected calls), `kind_of(recorded_request)`, `conversation_of(...)`.
- Report: `ScenarioResult(NAME)`, `res.add(measure, value, limit, verdict, raw)`, `res.note(text)`,
  `verdict(ok)` ("met"/"MISSED"; "info" when there is no target), `percentile`, `ms`,
  `latency_rows(res, label, seconds, p99_target=...)`.

Rows must always be emitted in the same set (the smoke test checks that every row is printed),
with `raw` the number behind the printed value. A module may define `smoke_check(rows)` (rows:
measure -> raw) returning a list of problems; the smoke test runs it on the tiny run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import (
    scenario_ack,
    scenario_burst,
    scenario_memory,
    scenario_options,
    scenario_round_trips,
    scenario_start_burst,
)
from bench.core import ROOT, Context, ScenarioResult

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.md"


def _optional(module: str) -> ModuleType | None:
    """A scenario module written on another branch: registered when it exists."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name == module:
            return None
        raise


SCENARIOS: dict[str, ModuleType | None] = {
    "1": scenario_ack,
    "1b": scenario_start_burst,
    "2": scenario_round_trips,
    "3": scenario_burst,
    "4": scenario_memory,
    "5": scenario_options,
    "6": _optional("bench.scenario_faults"),
    "7": _optional("bench.scenario_shutdown"),
}
SCENARIOS = {key: module for key, module in SCENARIOS.items() if module is not None}

GLOBAL_TINY = {"rate_limit": 6000, "latency": 0.2}


def scenario_name(key: str) -> str:
    module = SCENARIOS[key]
    return getattr(module, "NAME", module.__name__.rsplit(".", 1)[-1])


# ---------------------------------------------------------------------------------------------
# report


def machine_header() -> list[str]:
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
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
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
        f"- Machine: {cores} cores ({cpu}), {mem} RAM (MemTotal), {platform.system()} {platform.release()}; "
        f"load average at the end {load}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- Commit: {rev}; flags: {flags}",
        "",
    ]


def render(results: list[ScenarioResult]) -> str:
    lines = machine_header()
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


def as_json(results: list[ScenarioResult]) -> str:
    payload = [
        {"scenario": r.name, "error": r.error, "notes": r.notes, "data": r.data,
         "rows": [{"measure": x.measure, "value": x.value, "limit": x.limit, "verdict": x.verdict, "raw": x.raw}
                  for x in r.rows]}
        for r in results
    ]
    return json.dumps(payload, indent=2, default=str)


# ---------------------------------------------------------------------------------------------
# command line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="Benchmark the Slack /transfer bot.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--scenarios", default="all", help=f"comma-separated subset of {', '.join(SCENARIOS)} (or all)")
    p.add_argument("--tiny", action="store_true",
                   help="every scenario at a tiny size and low latency (the smoke test); explicit flags still win")
    p.add_argument("--rate-limit", type=int, default=300, help="Genesys requests/minute (simulator and bot)")
    p.add_argument("--burst", type=int, default=10, help="Genesys token-bucket burst (simulator and bot)")
    p.add_argument("--latency", type=float, default=2.0,
                   help="Genesys simulator latency per response (s) in the slow-Genesys scenarios (1, 1b, 5)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the Markdown table")
    p.add_argument("--json", type=Path, default=None, help="also write raw figures as JSON here")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with bot logs and databases")
    p.add_argument("--bot-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for every bot process (wins over the scenario's), e.g. TRANSFER_WORKERS=64")
    for key, module in SCENARIOS.items():
        add = getattr(module, "add_arguments", None)
        if add is not None:
            add(p.add_argument_group(f"scenario {key}: {scenario_name(key)}"))
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = build_parser()
    pre, _ = p.parse_known_args(argv)
    if pre.tiny:
        tiny = dict(GLOBAL_TINY)
        for module in SCENARIOS.values():
            tiny.update(getattr(module, "TINY", {}))
        p.set_defaults(**tiny)
    args = p.parse_args(argv)
    args.bot_env_overrides = {}
    for item in args.bot_env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            p.error(f"--bot-env expects NAME=VALUE, got {item!r}")
        args.bot_env_overrides[key] = value
    for flag in ("rate_limit", "burst"):
        if getattr(args, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.latency < 0:
        p.error("--latency must not be negative")
    for module in SCENARIOS.values():
        check = getattr(module, "check_arguments", None)
        if check is not None and (problem := check(args)):
            p.error(problem)
    wanted = args.scenarios.strip()
    args.scenario_list = list(SCENARIOS) if wanted == "all" else [s.strip() for s in wanted.split(",") if s.strip()]
    unknown = [s for s in args.scenario_list if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s): {unknown}; known: {list(SCENARIOS)}")
    return args


def run_one(key: str, ctx: Context) -> ScenarioResult:
    started = time.monotonic()
    print(f"running scenario {key} ({scenario_name(key)}) ...", file=sys.stderr, flush=True)
    try:
        res = SCENARIOS[key].run(ctx)
    except Exception as error:
        res = ScenarioResult(scenario_name(key), error=f"{type(error).__name__}: {error}")
        traceback.print_exc()
    print(f"  scenario {key} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="transfer-bot-bench-"))
    ctx = Context(args, workdir)
    results: list[ScenarioResult] = []
    try:
        for key in args.scenario_list:
            results.append(run_one(key, ctx))
    finally:
        ctx.close()
        if args.keep_logs:
            print(f"logs and databases kept in {workdir}", file=sys.stderr)
        else:
            for path in sorted(workdir.rglob("*"), reverse=True):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink(missing_ok=True)
            workdir.rmdir()
    report = render(results)
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(as_json(results))
    return 1 if any(r.error for r in results) else 0
