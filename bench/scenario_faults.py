"""Fault run (issue 14, "Done when"): two replicas on PostgreSQL, a flaky Slack, one kill -9.

`commands` slash commands (default 300) are spread evenly over `duration` seconds (default 60)
and alternate between two bot processes (`python app.py --http`) that share one fresh
PostgreSQL schema and one Genesys OAuth client (the simulator limits that client to
`rate_limit`/min, burst `burst`, like Genesys). The fake Slack fails `slack_fault_rate` (10%)
of the bot's calls to it, Web API and response_url alike, chosen at random (seeded): HTTP 500,
HTTP 429 with Retry-After: 1, or a dropped connection (half of those after Slack recorded the
call, like an answer lost on the way back). At `kill_at` of the way through (default half) the
second replica gets SIGKILL and is NOT restarted (`--fault-restart` restarts it): from then on
the load balancer sends every command to the survivor, whose sweeper and recovery must finish
or settle what the dead one left.

What is compared (from what Slack shows and what the simulator did, not from the bot's logs):
each command has its own channel and requester, so every message in that channel (public, or
ephemeral to the requester) and in the requester's DM belongs to that request.
- unanswered: accepted commands whose requester never got a final answer (target 0);
- wrong outcomes: a final answer that contradicts the simulator: "Transferred" for a call it
  never transferred, or "Not transferred" for one it did (target 0; "outcome unknown" is counted
  apart, it is not wrong);
- duplicate transfers: conversations with more than one replace POST that was not refused with
  429, or transferred more than once (target 0);
- duplicate Slack posts: the same result shown twice in one place (channel, ephemeral, DM) to
  the requester (target 0);
- Genesys 429s seen by the two replicas together (they share one budget; target 0).

Run alone: `python -m bench.scenario_faults --fault-commands 40 --fault-duration 10`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.core import GENESYS_DEFAULTS, Bot, Row, ScenarioResult, option, verdict
from bot.playground.slack_api import FakeSlack, Fault
from bot.simulator import GenesysSimulator
from tests.kit.env import bot_env
from tests.kit.slack_client import SlackClientSide

NAME = "6. Fault run: 2 replicas on PostgreSQL, Slack failing, kill -9"
TINY = {"fault_commands": 12, "fault_duration": 6.0, "fault_slack_rate": 0.3}
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REPLACE_PATH = "/replace/queue"
TARGET_QUEUE = "Billing"


# ---------------------------------------------------------------------------------------------
# options: flags when run from the bench's argument parser, attributes of ctx.args otherwise


@dataclass
class FaultOptions:
    commands: int = 300
    duration: float = 60.0
    slack_fault_rate: float = 0.10
    kill_at: float = 0.5  # fraction of `duration` at which replica 2 gets SIGKILL
    restart: bool = False
    rate_limit: int = 300  # Genesys requests per minute for the one OAuth client
    burst: int = 10
    seed: int = 14
    answer_timeout: float | None = None  # default: from the work the rate limit allows
    bot_env: dict[str, str] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fault run's flags, for the bench's parser (`--rate-limit`/`--burst` are the bench's own)."""
    d = FaultOptions()
    parser.add_argument("--fault-commands", type=int, default=d.commands, help="fault run: slash commands to send")
    parser.add_argument("--fault-duration", type=float, default=d.duration, help="fault run: seconds to spread them")
    parser.add_argument("--fault-slack-rate", type=float, default=d.slack_fault_rate,
                        help="fault run: share of the bot's Slack calls that fail (500 / 429 / dropped)")
    parser.add_argument("--fault-kill-at", type=float, default=d.kill_at,
                        help="fault run: when to kill -9 replica 2, as a fraction of the duration")
    parser.add_argument("--fault-restart", action="store_true", help="fault run: restart the killed replica")
    parser.add_argument("--fault-seed", type=int, default=d.seed, help="fault run: seed of the Slack fault draw")


def check_arguments(args: argparse.Namespace) -> str | None:
    if args.fault_commands < 1 or args.fault_duration <= 0:
        return "--fault-commands must be at least 1 and --fault-duration above 0"
    if not 0 <= args.fault_slack_rate <= 1 or not 0 < args.fault_kill_at < 1:
        return "--fault-slack-rate must be within 0..1 and --fault-kill-at strictly between 0 and 1"
    return None


def options_from(ctx: Any) -> FaultOptions:
    d = FaultOptions()
    return FaultOptions(
        commands=int(option(ctx, "fault_commands", d.commands)),
        duration=float(option(ctx, "fault_duration", d.duration)),
        slack_fault_rate=float(option(ctx, "fault_slack_rate", d.slack_fault_rate)),
        kill_at=float(option(ctx, "fault_kill_at", d.kill_at)),
        restart=bool(option(ctx, "fault_restart", d.restart)),
        rate_limit=int(option(ctx, "rate_limit", d.rate_limit)),
        burst=int(option(ctx, "burst", d.burst)),
        seed=int(option(ctx, "fault_seed", d.seed)),
        answer_timeout=option(ctx, "fault_answer_timeout", None),
        bot_env=dict(option(ctx, "bot_env_overrides", {})),
    )


def workdir_of(ctx: Any) -> Path:
    workdir = getattr(ctx, "workdir", None)
    return Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="transfer-bot-bench-"))


# ---------------------------------------------------------------------------------------------
# a Slack that fails a share of the bot's calls


class FlakySlack(FakeSlack):
    """FakeSlack whose calls fail at random once `fault_rate` is set (the injected faults of
    FakeSlack.inject still come first). The call is recorded either way, as FakeSlack does."""

    KINDS = ("500", "429", "drop")

    def __init__(self, *, seed: int = 14, **kw: Any) -> None:
        super().__init__(**kw)
        self.fault_rate = 0.0
        self._rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.calls = 0

    def _take_fault(self, method: str) -> Fault | None:  # called with the fake's lock held
        fault = super()._take_fault(method)
        if fault is not None or self.fault_rate <= 0:
            return fault
        self.calls += 1
        if self._rng.random() >= self.fault_rate:
            return None
        kind = self._rng.choice(self.KINDS)
        if kind == "500":
            fault = Fault(method, status=500)
        elif kind == "429":
            fault = Fault(method, status=429, retry_after=1)
        else:
            landed = self._rng.random() < 0.5
            kind = "drop after recording" if landed else "drop"
            fault = Fault(method, drop_connection=True, apply=landed)
        fault.hits = 1
        self.injected[kind] += 1
        return fault


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a fresh schema per run (as tests/integration/conftest.py's isolated_postgres_url)


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *params.items()])))


@contextlib.contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """A database URL whose connections see only a new, empty schema; dropped afterwards."""
    import psycopg

    url = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    schema = f"bench_{uuid.uuid4().hex[:16]}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as error:
        host = urlsplit(url).hostname
        raise RuntimeError(f"PostgreSQL not reachable at {host} (TEST_POSTGRES_URL): {error}") from None
    try:
        yield with_query(url, options=f"-csearch_path={schema}")
    finally:
        with contextlib.suppress(psycopg.Error), psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ---------------------------------------------------------------------------------------------
# requests and what Slack shows for each


@dataclass
class Ask:
    """One slash command: its own requester, channel and response_url, and one live call."""

    index: int
    call_id: str
    user: str
    channel: str
    key: str = ""
    replica: int = -1
    status: int = 0  # HTTP status of the ack; 0: no answer (connection refused or cut)
    error: str = ""
    sent_at: float = 0.0
    answered_at: float | None = None

    @property
    def acked(self) -> bool:
        return self.status == 200


def make_asks(sim: GenesysSimulator, count: int, prefix: str) -> list[Ask]:
    source = sim.add_queue(f"Sales-{prefix}")
    return [Ask(i, sim.add_call(scenario="connected", queue=source).id, f"U{prefix}{i:05d}", f"C{prefix}{i:05d}")
            for i in range(count)]


def send(slack: FakeSlack, port: int, ask: Ask) -> Ask:
    """Sign and send `/transfer <call> Billing` as Slack would, with a response_url posting into the channel."""
    text = f"{ask.call_id} {TARGET_QUEUE}"
    url = slack.open_response_url(channel=ask.channel, user=ask.user, command_text=f"/transfer {text}")
    ask.key = url.rsplit("/", 1)[1]
    ask.sent_at = time.monotonic()
    try:
        reply, _ = SlackClientSide(slack, "127.0.0.1", port).command(text, user=ask.user, channel=ask.channel,
                                                                     key=ask.key)
        ask.status = reply.status
        if reply.status != 200:
            ask.error = reply.body[:200]
    except OSError as error:
        ask.error = f"{type(error).__name__}: {error}"
    return ask


PENDING, TRANSFERRED, NOT_TRANSFERRED, UNCERTAIN, OTHER = "pending", "transferred", "not transferred", \
    "uncertain", "other"


def classify(text: str) -> str:
    if "waiting for Genesys to confirm" in text or "Working on it" in text or "Checking" in text:
        return PENDING
    if "Not transferred" in text or "already ended" in text or "Nothing was sent" in text:
        return NOT_TRANSFERRED
    if "outcome unknown" in text or "may or may not" in text:
        return UNCERTAIN
    if "Transferred" in text:
        return TRANSFERRED
    return OTHER


@dataclass
class Seen:
    """What the requester of one command can see: (place, class, text) per top-level bot message."""

    messages: list[tuple[str, str, str]]

    @property
    def finals(self) -> list[tuple[str, str, str]]:
        return [m for m in self.messages if m[1] != PENDING]

    @property
    def final(self) -> str | None:
        finals = self.finals
        return finals[-1][1] if finals else None

    @property
    def stale(self) -> bool:
        """A result still saying "waiting for Genesys to confirm" after the request was answered."""
        return any(m[1] == PENDING and "waiting for Genesys" in m[2] for m in self.messages)

    @property
    def duplicated(self) -> bool:
        places = Counter((place, cls) for place, cls, _ in self.messages)
        return any(n > 1 for n in places.values())


def seen(slack: FakeSlack, ask: Ask) -> Seen:
    messages = []
    for channel in (ask.channel, "D" + ask.user[1:]):
        for message, _ in slack.timeline(channel, ask.user):
            if message.bot_id:
                place = "dm" if channel[0] == "D" else ("ephemeral" if message.ephemeral_to else "channel")
                messages.append((place, classify(message.text), message.text))
    return Seen(messages)


class AnswerWatcher:
    """Stamps each ask's answered_at when its first final answer shows in Slack (in the background,
    from before the first command, so restarts and waits don't blur the times)."""

    def __init__(self, slack: FakeSlack, asks: list[Ask]) -> None:
        self.slack = slack
        self.asks = asks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="answer-watcher", daemon=True)

    def __enter__(self) -> AnswerWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        waiting = list(self.asks)
        while waiting and not self._stop.is_set():
            version = self.slack.version
            now = time.monotonic()
            for ask in waiting:
                if seen(self.slack, ask).final is not None:
                    ask.answered_at = now
            waiting = [a for a in waiting if a.answered_at is None]
            self.slack.wait_change(version, 0.5)

    def wait(self, timeout: float) -> None:
        """Until every acked ask has a final answer, or timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(a.acked and a.answered_at is None for a in self.asks):
            time.sleep(0.2)


@dataclass
class Tally:
    unanswered: list[Ask]
    wrong: list[tuple[Ask, str]]
    uncertain: list[Ask]
    duplicate_posts: list[Ask]
    stale: list[Ask]
    duplicate_transfers: list[str]
    transferred: int
    finals: Counter
    samples: dict[str, str] = field(default_factory=dict)  # one final answer's text per kind
    duplicated_seen: list[Seen] = field(default_factory=list)  # what the first duplicates' requesters saw


def tally(slack: FakeSlack, sim: GenesysSimulator, asks: list[Ask]) -> Tally:
    done = Counter(t.conversation_id for t in sim.transfers)
    posts = Counter(r.path.split("/")[4] for r in sim.requests
                    if r.method == "POST" and r.path.endswith(REPLACE_PATH) and r.status != 429)
    unanswered, wrong, uncertain, duplicates, stale = [], [], [], [], []
    duplicated_seen: list[Seen] = []
    finals: Counter[str] = Counter()
    samples: dict[str, str] = {}
    for ask in asks:
        view = seen(slack, ask)
        finals[view.final or "none"] += 1
        if view.final is not None and view.final != TRANSFERRED:
            samples.setdefault(view.final, view.finals[-1][2])
        if view.final is None:
            if ask.acked:
                unanswered.append(ask)
            continue
        transferred = done[ask.call_id] > 0
        contradicting = [text for _, cls, text in view.finals
                         if (cls == TRANSFERRED and not transferred) or (cls == NOT_TRANSFERRED and transferred)]
        if contradicting:
            wrong.append((ask, contradicting[-1]))
        if view.final == UNCERTAIN:
            uncertain.append(ask)
        if view.duplicated:
            duplicates.append(ask)
            duplicated_seen.append(view)
        if view.stale:
            stale.append(ask)
    twice = sorted(cid for cid in {a.call_id for a in asks} if posts[cid] > 1 or done[cid] > 1)
    return Tally(unanswered, wrong, uncertain, duplicates, stale, twice,
                 sum(1 for a in asks if done[a.call_id]), finals, samples, duplicated_seen[:3])


def count_rows(name: str, t: Tally, asks: list[Ask]) -> list[Row]:
    """The rows both fault scenarios share: answers, outcomes, duplicates."""
    acked = [a for a in asks if a.acked]
    return [
        Row(name, f"unanswered requesters (of {len(acked)} acked)", str(len(t.unanswered)), "0",
            verdict(not t.unanswered), len(t.unanswered)),
        Row(name, "wrong outcomes (Slack answer ≠ what Genesys did)", str(len(t.wrong)), "0",
            verdict(not t.wrong), len(t.wrong)),
        Row(name, "duplicate transfers (conversations with >1 replace POST or transfer)",
            str(len(t.duplicate_transfers)), "0", verdict(not t.duplicate_transfers), len(t.duplicate_transfers)),
        Row(name, "duplicate Slack posts (same result twice in one place)", str(len(t.duplicate_posts)), "0",
            verdict(not t.duplicate_posts), len(t.duplicate_posts)),
        Row(name, "answers 'outcome unknown' (not wrong; counted apart)", str(len(t.uncertain)), "0 wanted (no target)",
            "info", len(t.uncertain)),
        Row(name, "transfers executed by Genesys", f"{t.transferred} of {len(asks)}", "(no target)", "info",
            t.transferred),
    ]


def detail_notes(t: Tally, asks: list[Ask]) -> list[str]:
    notes = [f"final answers by kind: {dict(t.finals)}."]
    notes += [f"a '{kind}' answer read: {' '.join(text.split())[:200]!r}" for kind, text in t.samples.items()]
    if t.unanswered:
        notes.append(f"unanswered (first 5): {[(a.index, a.call_id[:8], a.replica) for a in t.unanswered[:5]]}.")
    for ask, text in t.wrong[:3]:
        notes.append(f"wrong outcome: command {ask.index} (replica {ask.replica + 1}) said {text[:160]!r}.")
    if t.duplicate_transfers:
        notes.append(f"conversations transferred twice: {t.duplicate_transfers[:5]}.")
    if t.duplicate_posts:
        notes.append(f"duplicate posts (first 5 commands): {[a.index for a in t.duplicate_posts[:5]]}.")
        for ask, view in zip(t.duplicate_posts, t.duplicated_seen, strict=False):
            shown = [(place, cls, " ".join(text.split())[:90]) for place, cls, text in view.messages]
            notes.append(f"command {ask.index} (replica {ask.replica + 1}) showed: {shown}.")
    if t.stale:
        notes.append(f"{len(t.stale)} request(s) still show a 'waiting for Genesys to confirm' message next to "
                     f"their final answer (first: command {t.stale[0].index}).")
    failed = [a for a in asks if not a.acked]
    if failed:
        notes.append(f"{len(failed)} command(s) got no ack: {[(a.index, a.status, a.error[:60]) for a in failed[:4]]}.")
    return notes


# ---------------------------------------------------------------------------------------------
# the run


class Replicas:
    """Two bot processes behind a "load balancer" that alternates and skips a dead one."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.bots: list[Bot] = []
        self.dead: set[int] = set()
        self._lock = threading.Lock()
        self._starts = 0

    def start(self, index: int) -> Bot:
        self._starts += 1
        bot = Bot(self.env, self.workdir / f"fault-replica{index + 1}-{self._starts}.log")
        if index < len(self.bots):
            self.bots[index] = bot
        else:
            self.bots.append(bot)
        return bot

    def route(self, i: int) -> tuple[int, int]:
        with self._lock:
            choice = i % len(self.bots)
            if choice in self.dead:
                choice = next(j for j in range(len(self.bots)) if j not in self.dead)
            return choice, self.bots[choice].port

    def kill(self, index: int) -> None:
        with self._lock:
            self.dead.add(index)
        self.bots[index].process.kill()

    def revive(self, index: int) -> float:
        started = time.monotonic()
        bot = self.start(index)
        bot.wait_ready(timeout=120)
        with self._lock:
            self.dead.discard(index)
        return time.monotonic() - started

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("fault-replica*.log")))

    def stop(self) -> None:
        for bot in self.bots:
            with contextlib.suppress(Exception):
                bot.stop()


@dataclass
class Timeline:
    t0: float = 0.0
    killed_at: float | None = None
    revived_after: float | None = None
    sent_done: float = 0.0


def drive(opts: FaultOptions, slack: FlakySlack, replicas: Replicas, asks: list[Ask]) -> Timeline:
    """Send the commands on schedule, alternating replicas; kill -9 replica 2 on the way."""
    tl = Timeline(t0=time.monotonic())
    spacing = opts.duration / max(1, len(asks))
    kill_after = opts.kill_at * opts.duration
    victim = 1

    def killer() -> None:
        time.sleep(max(0.0, tl.t0 + kill_after - time.monotonic()))
        replicas.kill(victim)
        tl.killed_at = time.monotonic()
        if opts.restart:
            tl.revived_after = replicas.revive(victim)

    def one(ask: Ask) -> Ask:
        time.sleep(max(0.0, tl.t0 + ask.index * spacing - time.monotonic()))
        ask.replica, port = replicas.route(ask.index)
        return send(slack, port, ask)

    kill_thread = threading.Thread(target=killer, name="fault-killer", daemon=True)
    kill_thread.start()
    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="fault-client") as pool:
        list(pool.map(one, asks))
    tl.sent_done = time.monotonic()
    kill_thread.join(180)
    return tl


def run(ctx: Any) -> ScenarioResult:
    """The bench entry point: never raises; a scenario that can't run is reported as an error."""
    res = ScenarioResult(NAME)
    try:
        _run(ctx, res, options_from(ctx))
    except Exception as error:
        res.error = f"{type(error).__name__}: {error}"
        traceback.print_exc()
    return res


def _run(ctx: Any, res: ScenarioResult, opts: FaultOptions) -> None:
    workdir = workdir_of(ctx)
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_schema())
        sim = stack.enter_context(GenesysSimulator(rate_limit_per_minute=opts.rate_limit, burst=opts.burst))
        slack = FlakySlack(seed=opts.seed).start()
        stack.callback(slack.stop)
        sim.add_queue(TARGET_QUEUE)
        asks = make_asks(sim, opts.commands, "0F")
        env = bot_env(slack, sim, database_url, **GENESYS_DEFAULTS, GENESYS_RATE_LIMIT_PER_MINUTE=str(opts.rate_limit),
                      GENESYS_RATE_BURST=str(opts.burst), LOG_LEVEL="WARNING", **opts.bot_env)
        replicas = Replicas(env, workdir)
        stack.callback(replicas.stop)
        for i in range(2):
            replicas.start(i)
        for bot in replicas.bots:
            bot.wait_ready(timeout=180)  # the Genesys SDK import is slow on a loaded machine
        sim.reset_requests()
        slack.fault_rate = opts.slack_fault_rate

        with AnswerWatcher(slack, asks) as watcher:
            tl = drive(opts, slack, replicas, asks)
            # Three requests per transfer at the shared rate, plus the recovery lease and Slack's retries.
            watcher.wait(opts.answer_timeout or (3 * len(asks) / (opts.rate_limit / 60.0) + 120.0))
        time.sleep(3.0)  # let a late duplicate show up if one were coming
        t = tally(slack, sim, asks)
        logs = replicas.logs()
        report(res, opts, asks, t, tl, sim.count_429, slack, logs)


def cut_by_kill(ask: Ask, tl: Timeline) -> bool:
    """No ack because the replica it went to was killed while (or just before) it was sent."""
    return (not ask.acked and ask.status == 0 and ask.replica == 1 and tl.killed_at is not None
            and ask.sent_at <= tl.killed_at + 1.0)


def report(res: ScenarioResult, opts: FaultOptions, asks: list[Ask], t: Tally, tl: Timeline, count_429: int,
           slack: FlakySlack, logs: str) -> None:
    name = res.name
    answered = [a.answered_at for a in asks if a.answered_at is not None]
    last = max(answered, default=float("nan")) - tl.t0
    victims = [a for a in asks if a.replica == 1 and tl.killed_at is not None and a.sent_at < tl.killed_at]
    victims_answered = sum(1 for a in victims if a.answered_at is not None)
    acked = sum(1 for a in asks if a.acked)
    cut = [a for a in asks if cut_by_kill(a, tl)]
    refused = [a for a in asks if not a.acked and a not in cut]
    res.rows += count_rows(name, t, asks)
    res.rows += [
        Row(name, "Genesys 429s (both replicas, one OAuth client)", str(count_429), "0", verdict(count_429 == 0),
            count_429),
        Row(name, f"commands sent (over {opts.duration:g} s, alternating replicas)", str(len(asks)), "(the load)",
            "info", len(asks)),
        Row(name, "commands acked", f"{acked} of {len(asks)}", "(no target; see the next two rows)", "info", acked),
        Row(name, "commands without an ack: cut by the kill (connection to the killed replica)", str(len(cut)),
            "(no target: Slack shows the requester an error)", "info", len(cut)),
        Row(name, "commands without an ack: refused by a live replica (HTTP error)", str(len(refused)), "0",
            verdict(not refused), len(refused)),
        Row(name, "sent to the killed replica before the kill: answered", f"{victims_answered} of {len(victims)}",
            f"= {len(victims)}", verdict(victims_answered == len(victims)), victims_answered),
        Row(name, "Slack calls failed on purpose", f"{sum(slack.injected.values())} of {slack.calls}",
            f"≈ {opts.slack_fault_rate:.0%}", "info", sum(slack.injected.values())),
        Row(name, "first command → last final answer", f"{last:.1f} s", "(no target)", "info", last),
    ]
    kill = f"{tl.killed_at - tl.t0:.1f} s" if tl.killed_at is not None else "never (the run ended first)"
    restart = (f"restarted (ready {tl.revived_after:.1f} s after the kill)" if tl.revived_after is not None
               else "not restarted: the survivor finished its work")
    res.notes.append(
        f"{len(asks)} commands over {opts.duration:g} s alternating between two `app.py --http` processes on one "
        f"fresh PostgreSQL schema; Genesys simulator and each replica at {opts.rate_limit}/min burst {opts.burst}. "
        f"Replica 2 got SIGKILL at t = {kill}, {restart}. Slack faults injected: {dict(slack.injected)} "
        f"(seed {opts.seed}). Recovery lines in the replicas' logs: {logs.count('recovering request')}; "
        f"Bolt middleware failures (e.g. its first-request auth.test failing → HTTP 500 to the command): "
        f"{logs.count('Failed to run a middleware')}.")
    res.notes += detail_notes(t, asks)
    res.data = {"finals": dict(t.finals), "slack_faults": dict(slack.injected), "count_429": count_429,
                "last_answer_s": last}


def _one(rows: dict[str, Any], prefix: str) -> Any:
    matches = [raw for measure, raw in rows.items() if measure.startswith(prefix)]
    if len(matches) != 1:
        raise KeyError(f"{len(matches)} rows start with {prefix!r}")
    return matches[0]


def smoke_check(rows: dict[str, Any]) -> list[str]:
    """Sanity of a tiny run (rows: measure -> raw). Counts only, no timings; what Genesys did must hold."""
    try:
        sent, acked, cut = (_one(rows, "commands sent"), _one(rows, "commands acked"),
                            _one(rows, "commands without an ack: cut"))
        refused, executed = _one(rows, "commands without an ack: refused"), _one(rows, "transfers executed")
        checks = {
            "unanswered requesters": _one(rows, "unanswered requesters") == 0,
            "wrong outcomes": _one(rows, "wrong outcomes") == 0,
            "duplicate transfers": _one(rows, "duplicate transfers") == 0,
            "acked + cut + refused = sent": acked + cut + refused == sent > 0,
            "at most one command cut by the kill": cut <= 1,
            "some transfers executed": executed > 0,
            "duplicate posts counted": _one(rows, "duplicate Slack posts") >= 0,
            "429s counted": _one(rows, "Genesys 429s") >= 0,
            "Slack faults injected": _one(rows, "Slack calls failed on purpose") > 0,
            "killed replica's commands counted": _one(rows, "sent to the killed replica") >= 0,
        }
    except (KeyError, TypeError) as error:
        return [f"rows: {error}"]
    return [name for name, ok in checks.items() if not ok]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scenario_faults", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--rate-limit", type=int, default=FaultOptions.rate_limit)
    parser.add_argument("--burst", type=int, default=FaultOptions.burst)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="transfer-bot-faults-"))
    res = run(argparse.Namespace(args=args, workdir=workdir))
    print_result(res)
    print(f"(bot logs in {workdir})", file=sys.stderr)
    return 1 if res.error else 0


def print_result(res: ScenarioResult) -> None:
    print("| Scenario | Measure | Value | Limit | Result |\n|---|---|---|---|---|")
    for row in res.rows:
        print(f"| {row.scenario} | {row.measure} | {row.value} | {row.limit} | {row.verdict} |")
    for note in res.notes:
        print(f"- {note}")
    if res.error:
        print(f"- ERROR: {res.error}")


if __name__ == "__main__":
    sys.exit(main())
