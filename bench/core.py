"""What every benchmark scenario builds on; scenario modules import this, never bench.run.

The peers come from the one kit the tests use: the fake Slack (bot.playground, via tests.kit),
the bot as its own OS process (tests.kit.bots.BotProcess), its environment (tests.kit.env.bot_env),
free ports (tests.kit.net) and Slack's request signing (tests.kit.slack_client). What is left
here is the bench's own: timing, percentiles, rows of the report, and a Context that scenarios
share. See the docstring of bench/run.py for how a scenario module is written and registered.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.playground.slack_api import FakeSlack, Received
from bot.simulator import GenesysSimulator
from tests.kit.bots import ROOT, BotProcess
from tests.kit.env import bot_env
from tests.kit.net import free_port
from tests.kit.slack_client import SlackClientSide

__all__ = [
    "HOST",
    "ROOT",
    "SLACK_ACK_LIMIT",
    "Ack",
    "Bot",
    "Context",
    "Row",
    "ScenarioResult",
    "fire_together",
    "flat",
    "http_get",
    "latency_rows",
    "ms",
    "percentile",
    "post_signed",
    "send_commands",
    "slack_results",
    "verdict",
    "wait_results",
]

HOST = "127.0.0.1"
SLACK_ACK_LIMIT = 3.0  # seconds: Slack shows operation_timeout after this
# The bot's own defaults for talking to Genesys (tests/kit/env.py shortens them for fast tests;
# the bench measures what an operator gets).
GENESYS_DEFAULTS = {"GENESYS_READ_TIMEOUT": "10", "GENESYS_CONNECT_TIMEOUT": "3", "GENESYS_REQUEST_DEADLINE": "15"}


# ---------------------------------------------------------------------------------------------
# The report: rows and results


@dataclass
class Row:
    scenario: str
    measure: str
    value: str  # as printed
    limit: str = ""  # what the value is compared with, as printed ("" or "(no target)" when none)
    verdict: str = "info"  # met | MISSED | info
    raw: Any = None  # the number behind `value`, for --json and the smoke test


@dataclass
class ScenarioResult:
    name: str  # e.g. "5. Options latency"; every row carries it
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # printed under the table, one bullet each
    data: dict[str, Any] = field(default_factory=dict)  # extra raw figures, written to --json
    error: str | None = None  # set by the runner when run() raised

    def add(self, measure: str, value: str, limit: str = "", verdict: str = "info", raw: Any = None) -> Row:
        row = Row(self.name, measure, value, limit, verdict, raw)
        self.rows.append(row)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)


def option(ctx: Any, name: str, default: Any) -> Any:
    """A scenario option from the command line, or its default when absent (tests call run(ctx) bare)."""
    value = getattr(getattr(ctx, "args", None), name, None)
    return default if value is None else value


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): the value that pct% of samples are at or below."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered), max(1, math.ceil(len(ordered) * pct / 100.0)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def latency_rows(res: ScenarioResult, label: str, values: list[float], *, p99_target: float | None,
                 pcts: tuple[int, ...] = (50, 99), with_max: bool = True) -> None:
    """`<label> p50`, `p99` (against `p99_target`, seconds) and `max` rows, in ms."""
    for pct in pcts:
        value = percentile(values, pct)
        if pct == 99 and p99_target is not None:
            res.add(f"{label} p99", ms(value), f"< {ms(p99_target)}", verdict(value < p99_target), value)
        else:
            res.add(f"{label} p{pct}", ms(value), "(target is on p99)" if p99_target else "(no target)", "info", value)
    if with_max:
        top = max(values, default=float("nan"))
        res.add(f"{label} max", ms(top), f"< {SLACK_ACK_LIMIT:.0f} s (Slack's limit)", verdict(top < SLACK_ACK_LIMIT),
                top)


# ---------------------------------------------------------------------------------------------
# The bot as an OS process


class Bot:
    """tests.kit.bots.BotProcess on a free port, plus what the bench reads (RSS); relaunched once
    if the free port was taken by someone else between free_port() and the bot binding it."""

    def __init__(self, env: dict[str, str], log_path: Path, mode: str = "--http") -> None:
        self.env = env
        self.log_path = log_path
        self.mode = mode
        self._relaunched = False
        self._launch()

    def _launch(self) -> None:
        self.process = BotProcess(self.env, port=free_port(), log_path=self.log_path, mode=self.mode)

    @property
    def port(self) -> int:
        return self.process.port

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    @property
    def started(self) -> float:
        """time.monotonic() when the process was started."""
        return self.process.started

    def _retry(self, wait: Callable[[], float]) -> float:
        try:
            return wait()
        except RuntimeError:
            raced = self.process.proc.poll() is not None and "in use" in self.log().lower()
            if self._relaunched or not raced:
                raise
            self._relaunched = True
            self.process.stop()
            self._launch()
            return wait()

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Seconds from process start to the first GET /healthz = 200 (polled every 50 ms)."""
        return self._retry(lambda: self.process.wait_healthy(timeout))

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from process start to GET /readyz = 200 (store, Genesys client and token, Slack auth).

        Waits for /healthz to say the Genesys client is loaded first: /readyz caches a failing Genesys
        check for 10 s, so asking it while the SDK loads would only add up to 10 s of waiting."""
        def wait() -> float:
            self.process.wait_healthy(timeout)
            self.wait_genesys_loaded(timeout)
            return self.process.wait_ready(timeout)

        return self._retry(wait)

    def wait_genesys_loaded(self, timeout: float = 120.0, poll: float = 0.02) -> float:
        """Seconds from process start until /healthz says the Genesys SDK client is built
        (`"genesys": "ready"`); unlike /readyz this has no cached check in between."""
        import json

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.process.proc.returncode}: {self.log()[-3000:]}")
            with contextlib.suppress(OSError, ValueError):
                status, body = http_get(self.port, "/healthz")
                genesys = json.loads(body).get("genesys") if status == 200 else None
                if genesys == "ready":
                    return time.monotonic() - self.started
                if genesys == "failed":
                    raise RuntimeError(f"the bot's Genesys client failed to load: {self.log()[-3000:]}")
            time.sleep(poll)
        raise RuntimeError(f"the Genesys client was not loaded after {timeout:g} s: {self.log()[-3000:]}")

    def log(self) -> str:
        return self.process.log()

    def rss_mb(self) -> float:
        return _status_kb(self.pid, "VmRSS") / 1024.0

    def hwm_mb(self) -> float:
        return _status_kb(self.pid, "VmHWM") / 1024.0

    def terminate(self, timeout: float = 15.0) -> float:
        """SIGTERM; seconds until the process exited (SIGKILL after `timeout`)."""
        return self.process.terminate(timeout)

    def stop(self) -> None:
        self.process.stop()


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, str]:
    """GET http://127.0.0.1:<port><path>: (status, body). Raises OSError when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _status_kb(pid: int, name: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{name} not found for pid {pid}")


# ---------------------------------------------------------------------------------------------
# Signed requests, timed client-side


@dataclass
class Ack:
    key: str  # the response_url key (slash commands) or ""
    status: int  # 0: no response (error set)
    body: str
    started: float  # time.monotonic() just before the request was sent (connect included)
    elapsed: float  # seconds, send (connect included) -> full response read
    error: str | None = None
    connect: float = float("nan")  # seconds the TCP connect took (≈1 s or more: a SYN was retransmitted)

    @property
    def ok(self) -> bool:
        """A 200 that is the bot's "Working on it" (slash commands); ok_any for any 200."""
        return self.status == 200 and "Working on it" in self.body

    @property
    def ok_any(self) -> bool:
        return self.status == 200


def post_signed(client: SlackClientSide, body: str, key: str = "", timeout: float = 30.0) -> Ack:
    """POST a body to /slack/events, signed with the kit's secret at the moment of sending; a new
    connection each time. Timed client-side; a connection error is returned as an Ack, not raised."""
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": client.verifier.generate_signature(timestamp=ts, body=body),
    }
    data = body.encode()
    started = time.monotonic()
    t0 = time.perf_counter()
    connect = float("nan")
    conn = http.client.HTTPConnection(client.host, client.port, timeout=timeout)
    try:
        conn.connect()
        connect = time.perf_counter() - t0
        conn.request("POST", "/slack/events", body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Ack(key, response.status, text, started, time.perf_counter() - t0, connect=connect)
    except OSError as error:
        return Ack(key, 0, "", started, time.perf_counter() - t0, f"{type(error).__name__}: {error}", connect)
    finally:
        conn.close()


def send_commands(client: SlackClientSide, texts: list[str], in_flight: int, *, user: str = "U0AGENT01") -> list[Ack]:
    """One `/transfer <text>` per text, at most `in_flight` outstanding; acks in order. Each command has
    its own response_url key (Ack.key), so its Slack results can be found with slack_results()."""
    prepared = [client.command_body(text, user=user) for text in texts]
    with ThreadPoolExecutor(max_workers=max(1, in_flight), thread_name_prefix="slack-client") as pool:
        return list(pool.map(lambda item: post_signed(client, item[0], item[1]), prepared))


def fire_together(client: SlackClientSide, bodies: list[tuple[str, str]], trigger: Callable[[], None]) -> list[Ack]:
    """One thread per (body, key), started and parked first; then `trigger()` runs (e.g. polls until the
    moment to send), and the moment it returns (or raises) every thread posts at once. Acks in order."""
    acks: list[Ack | None] = [None] * len(bodies)
    parked = threading.Barrier(len(bodies) + 1)
    go = threading.Event()

    def one(i: int, body: str, key: str) -> None:
        parked.wait()
        go.wait()
        acks[i] = post_signed(client, body, key)

    threads = [threading.Thread(target=one, args=(i, b, k), daemon=True) for i, (b, k) in enumerate(bodies)]
    for t in threads:
        t.start()
    parked.wait()
    try:
        trigger()
    finally:
        go.set()
        for t in threads:
            t.join(120)
    return [a or Ack(k, 0, "", 0.0, float("nan"), "no answer within 120 s") for a, (_, k) in zip(acks, bodies,
                                                                                                    strict=True)]


# ---------------------------------------------------------------------------------------------
# What Slack received


def flat(payload: dict) -> str:
    """A Slack payload's text and blocks as one string, for looking for wording in it."""
    import json

    return str(payload.get("text") or "") + json.dumps(payload.get("blocks") or [])


def slack_results(slack: FakeSlack, keys: Iterable[str] | None = None) -> dict[str, list[Received]]:
    """Every post to each response_url key (time-stamped with time.monotonic()), oldest first."""
    wanted = set(keys) if keys is not None else None
    out: dict[str, list[Received]] = {}
    for item in list(slack.received):
        if item.kind == "response_url" and (wanted is None or item.name in wanted):
            out.setdefault(item.name, []).append(item)
    return out


def wait_results(slack: FakeSlack, keys: Iterable[str], timeout: float,
                 done: Callable[[list[Received]], bool] = bool, poll: float = 0.2) -> dict[str, list[Received]]:
    """Wait (bounded) until done(posts) holds for every key; returns what arrived either way."""
    keys = list(keys)
    deadline = time.monotonic() + timeout
    while True:
        got = slack_results(slack, keys)
        if all(done(got.get(k, [])) for k in keys) or time.monotonic() > deadline:
            return got
        time.sleep(poll)


# ---------------------------------------------------------------------------------------------
# The context every scenario gets


class Context:
    """Shared by the scenarios of one run: the options, a temp dir, the fake Slack, and helpers.

    - `args`: the parsed command line (global flags and every scenario's own flags);
      `args.tiny` is True for the smoke test's tiny run.
    - `workdir`: a temp dir for databases and bot logs (removed after the run unless --keep-logs).
    - `slack`: one FakeSlack for the whole run; each command has its own response_url key.
    - `shared`: figures one scenario leaves for a later one (e.g. the cold-start extras of 2 for 3).
    """

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.slack = FakeSlack().start()
        self.shared: dict[str, Any] = {}
        self._names = 0
        self._closers: list[Callable[[], None]] = []

    def unique(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}-{self._names}"

    def database_url(self, name: str | None = None) -> str:
        """A fresh SQLite file in workdir (pass the same `name` again to reuse it, e.g. for a restart)."""
        return f"sqlite:///{self.workdir / ((name or self.unique('bot')) + '.db')}"

    def simulator(self, **kw: Any) -> GenesysSimulator:
        """A started GenesysSimulator (use it as a context manager to stop it)."""
        return GenesysSimulator(**kw).start()

    def bot_env(self, sim: GenesysSimulator, database_url: str | None = None, **env: Any) -> dict[str, str]:
        """tests.kit.env.bot_env with the bot's own Genesys timeouts, then `env`, then --bot-env."""
        extra = {**GENESYS_DEFAULTS, **{k: str(v) for k, v in env.items()},
                 **getattr(self.args, "bot_env_overrides", {})}
        return bot_env(self.slack, sim, database_url or self.database_url(), **extra)

    def start_bot(self, sim: GenesysSimulator, name: str, *, database_url: str | None = None,
                  mode: str = "--http", **env: Any) -> Bot:
        """`python app.py --http` against `sim` and the fake Slack; not yet waited for (wait_healthy/ready)."""
        return Bot(self.bot_env(sim, database_url, **env), self.workdir / f"{self.unique(name)}.log", mode)

    def client(self, bot_or_port: Bot | int) -> SlackClientSide:
        """Slack's side: signed commands, interactions and events to that port."""
        port = bot_or_port if isinstance(bot_or_port, int) else bot_or_port.port
        return SlackClientSide(self.slack, HOST, port)

    def on_close(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()
        self.slack.stop()


# ---------------------------------------------------------------------------------------------
# The wording of a transfer's result in the channel (bot/slack/render/describe.py)

CONFIRMED = "Transferred:"  # the confirmed ending
NOT_YET_CONFIRMED = "waiting for Genesys to confirm"  # sent, Genesys has not confirmed yet
_UNFINISHED = (NOT_YET_CONFIRMED, "Checking the conversation", "sending the transfer")


def channel_results(posts: list[Received]) -> list[Received]:
    """The posts a command's response_url put in the channel (not the private notices), oldest first."""
    return [p for p in posts if p.payload.get("response_type") == "in_channel" or p.payload.get("replace_original")]


def last_result(posts: list[Received]) -> str:
    """What the channel shows now for a command: the text of its last channel post ("" when none)."""
    shown = channel_results(posts)
    return flat(shown[-1].payload) if shown else ""


def is_confirmed(text: str) -> bool:
    return CONFIRMED in text


def is_final(text: str) -> bool:
    """The result has reached an ending (confirmed, or failed / never confirmed): nothing more will come."""
    return bool(text) and not any(marker in text for marker in _UNFINISHED)
