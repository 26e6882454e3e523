"""Shutdown under load (issue 11 §4): SIGTERM with `commands` (50) transfers in flight, then a restart.

The bot (`python app.py --http`, SQLite in the bench's work dir) gets `commands` slash commands at
once while the Genesys simulator delays every answer by `latency` (2 s) and does not rate-limit
(the bot's own limiter is raised to match), so the transfers really are in flight together. As
soon as every command is acked and the first replace POST has reached the simulator, the process
gets SIGTERM. Measured: how long it takes to exit (target ≤ SHUTDOWN_GRACE_SECONDS, default 8 s;
after 30 s it is killed and reported as such). Then a new process starts on the same database
(Genesys still at `latency`), and the run waits (bounded) until every requester has a final answer.

Reported against the targets: time to exit, requesters with a final answer (all of them),
conversations transferred twice (0); also wrong outcomes (the answer contradicts what the
simulator did) and the time until the last answer, from SIGTERM and from the restart.

Run alone: `python -m bench.scenario_shutdown --shutdown-commands 20`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.core import GENESYS_DEFAULTS, Bot, Row, ScenarioResult, option, verdict
from bench.scenario_faults import (
    TARGET_QUEUE,
    AnswerWatcher,
    Ask,
    Tally,
    _one,
    count_rows,
    detail_notes,
    make_asks,
    print_result,
    seen,
    send,
    tally,
    workdir_of,
)
from bot.playground.slack_api import FakeSlack
from bot.simulator import GenesysSimulator
from tests.kit.env import bot_env

NAME = "7. Shutdown: SIGTERM with transfers in flight, then restart"
TINY = {"shutdown_commands": 6, "shutdown_latency": 1.0}
DEFAULT_GRACE = 8.0  # SHUTDOWN_GRACE_SECONDS' default (bot/config/settings.py)
KILL_AFTER = 30.0  # beyond this the run stops waiting for the exit and sends SIGKILL


@dataclass
class ShutdownOptions:
    commands: int = 50
    latency: float = 2.0
    answer_timeout: float = 180.0
    bot_env: dict[str, str] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = ShutdownOptions()
    parser.add_argument("--shutdown-commands", type=int, default=d.commands,
                        help="shutdown: commands in flight at SIGTERM")
    parser.add_argument("--shutdown-latency", type=float, default=d.latency,
                        help="shutdown: Genesys simulator latency per response (s)")


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.shutdown_commands < 1 or args.shutdown_latency < 0:
        return "--shutdown-commands must be at least 1 and --shutdown-latency not negative"
    return None


def options_from(ctx: Any) -> ShutdownOptions:
    d = ShutdownOptions()
    return ShutdownOptions(
        commands=int(option(ctx, "shutdown_commands", d.commands)),
        latency=float(option(ctx, "shutdown_latency", d.latency)),
        answer_timeout=float(option(ctx, "shutdown_answer_timeout", d.answer_timeout)),
        bot_env=dict(option(ctx, "bot_env_overrides", {})),
    )


def run(ctx: Any) -> ScenarioResult:
    """The bench entry point: never raises; a scenario that can't run is reported as an error."""
    res = ScenarioResult(NAME)
    try:
        _run(ctx, res, options_from(ctx))
    except Exception as error:
        res.error = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    return res


@dataclass
class Stop:
    posts_before: int = 0  # replace POSTs the simulator had seen at SIGTERM
    posts_at_exit: int = 0  # ... and when the process had exited
    exit_seconds: float = 0.0
    exit_code: int | None = None
    killed: bool = False
    sigterm_at: float = 0.0
    restart_at: float = 0.0
    restart_ready: float = 0.0
    answered_before_restart: int = 0


def _posts(sim: GenesysSimulator) -> list:
    return sim.requests_matching("POST", r"/replace/queue$")


def _run(ctx: Any, res: ScenarioResult, opts: ShutdownOptions) -> None:
    workdir = workdir_of(ctx)
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / f'shutdown-{uuid.uuid4().hex[:8]}.db'}"
    bots: list[Bot] = []
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(GenesysSimulator(rate_limit_per_minute=None))
        slack = FakeSlack().start()
        stack.callback(slack.stop)
        stack.callback(lambda: [bot.stop() for bot in bots])
        sim.add_queue(TARGET_QUEUE)
        asks = make_asks(sim, opts.commands, "0S")
        env = bot_env(slack, sim, database_url, **GENESYS_DEFAULTS, GENESYS_RATE_LIMIT_PER_MINUTE="20000",
                      GENESYS_RATE_BURST="200", LOG_LEVEL="WARNING", **opts.bot_env)
        grace = float(env.get("SHUTDOWN_GRACE_SECONDS") or DEFAULT_GRACE)

        def start(name: str) -> Bot:
            bot = Bot(env, workdir / f"{name}.log")
            bots.append(bot)
            bot.wait_ready(timeout=180)
            return bot

        first = start(f"shutdown-first-{uuid.uuid4().hex[:6]}")
        watcher = stack.enter_context(AnswerWatcher(slack, asks))
        sim.reset_requests()
        sim.set_latency(opts.latency)
        with ThreadPoolExecutor(max_workers=max(1, len(asks))) as pool:
            list(pool.map(lambda ask: send(slack, first.port, ask), asks))
        stop = Stop()
        slack.wait_for(lambda: _posts(sim), timeout=max(30.0, 10 * opts.latency))
        stop.posts_before = len(_posts(sim))
        stop.sigterm_at = time.monotonic()
        stop.exit_seconds = first.terminate(timeout=KILL_AFTER)
        stop.exit_code = first.process.proc.returncode
        stop.posts_at_exit = len(_posts(sim))
        stop.killed = stop.exit_seconds >= KILL_AFTER
        stop.answered_before_restart = sum(1 for a in asks if _answered(slack, a))

        stop.restart_at = time.monotonic()
        start(f"shutdown-second-{uuid.uuid4().hex[:6]}")
        stop.restart_ready = time.monotonic() - stop.restart_at
        watcher.wait(opts.answer_timeout)
        time.sleep(2.0)  # let a late duplicate show up if one were coming
        t = tally(slack, sim, asks)
        logs = "".join(bot.log() for bot in bots)
    report(res, opts, asks, t, stop, grace, logs)


def _answered(slack: FakeSlack, ask: Ask) -> bool:
    return seen(slack, ask).final is not None


def report(res: ScenarioResult, opts: ShutdownOptions, asks: list[Ask], t: Tally, stop: Stop, grace: float,
           logs: str) -> None:
    name = res.name
    last = max((a.answered_at for a in asks if a.answered_at is not None), default=float("nan"))
    exit_value = f"{stop.exit_seconds:.2f} s" if not stop.killed else f"> {KILL_AFTER:g} s (SIGKILL)"
    with_final = len(asks) - t.finals.get("none", 0)
    acked = sum(1 for a in asks if a.acked)
    res.rows += [
        Row(name, f"SIGTERM → process exited ({len(asks)} commands in flight)", exit_value, f"≤ {grace:g} s",
            verdict(not stop.killed and stop.exit_seconds <= grace), stop.exit_seconds),
        Row(name, "commands acked before SIGTERM", f"{acked} of {len(asks)}", f"= {len(asks)}",
            verdict(acked == len(asks)), acked),
        Row(name, "requesters with a final answer after the restart", f"{with_final} of {len(asks)}",
            f"= {len(asks)}", verdict(with_final == len(asks)), with_final),
        Row(name, "conversations transferred twice", str(len(t.duplicate_transfers)), "0",
            verdict(not t.duplicate_transfers), len(t.duplicate_transfers)),
        Row(name, "SIGTERM → last final answer", f"{last - stop.sigterm_at:.1f} s", "(no target)", "info",
            last - stop.sigterm_at),
        Row(name, "restart → last final answer", f"{last - stop.restart_at:.1f} s",
            f"(restart ready after {stop.restart_ready:.1f} s; no target)", "info", last - stop.restart_at),
    ]
    res.rows += [r for r in count_rows(name, t, asks)
                 if not r.measure.startswith(("unanswered", "duplicate transfers"))]
    res.notes.append(
        f"Genesys simulator latency {opts.latency:g} s per response, no simulator rate limit (bot limiter "
        f"20000/min); SQLite; SIGTERM once all {len(asks)} commands were acked and a replace POST had gone out "
        f"({stop.posts_before} POSTs seen by then, {stop.posts_at_exit} by the exit). Exit code {stop.exit_code}. "
        f"{stop.answered_before_restart} requesters had their final answer before the restart; the rest came from "
        f"the new process (recovery lines in its log: {logs.count('recovering request')}).")
    res.notes += detail_notes(t, asks)
    res.data = {"exit_seconds": stop.exit_seconds, "killed": stop.killed, "with_final": with_final}


def smoke_check(rows: dict[str, Any]) -> list[str]:
    """Sanity of a tiny run (rows: measure -> raw). Counts only, no timings."""
    try:
        with_final = _one(rows, "requesters with a final answer")
        checks = {
            "exit time measured": _one(rows, "SIGTERM → process exited") > 0,
            "every acked requester answered": with_final >= _one(rows, "commands acked before SIGTERM") > 0,
            "nobody transferred twice": _one(rows, "conversations transferred twice") == 0,
            "wrong outcomes": _one(rows, "wrong outcomes") == 0,
            "duplicate posts counted": _one(rows, "duplicate Slack posts") >= 0,
            "SIGTERM came before the restart": _one(rows, "SIGTERM → last final answer")
            >= _one(rows, "restart → last final answer"),
        }
    except (KeyError, TypeError) as error:
        return [f"rows: {error}"]
    return [name for name, ok in checks.items() if not ok]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenario_shutdown", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="transfer-bot-shutdown-"))
    res = run(argparse.Namespace(args=args, workdir=workdir))
    print_result(res)
    print(f"(bot logs in {workdir})", file=sys.stderr)
    return 1 if res.error else 0


if __name__ == "__main__":
    sys.exit(main())
