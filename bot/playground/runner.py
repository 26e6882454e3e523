"""Start and stop the whole playground: simulator, fake Slack + page, and the bot as its own process.

The bot runs exactly as in production, `python app.py --http`, with an explicit environment that
points it at the playground: nothing in the bot knows it is in a playground apart from
SLACK_API_URL. Every setting the bot reads is set here (blank where the default applies), and the
bot runs in the playground's data folder, so a developer's `.env` can change nothing: python-dotenv
is called with override=False and never replaces a variable that is already set, even to "".
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.config import env_names
from bot.playground.genesys import SimulatedOrg
from bot.playground.payloads import BotEndpoint
from bot.playground.server import PEOPLE, Playground
from bot.playground.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
DEFAULT_PORT = 3000
EXTRA_QUEUES = ("Support Tier 2",)  # the name the README and the issue type; the demo org spells it Support_Tier2

# Every variable the bot reads (see .env.example); a test keeps this list and that file in step.
BOT_SETTINGS = env_names()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def bot_environment(*, base: dict[str, str], slack: FakeSlack, simulator, signing_secret: str, approvers: list[str],
                    database_url: str, port: int, log_level: str = "INFO") -> dict[str, str]:
    """The bot's whole environment: the caller's, minus anything that configures the bot, plus ours."""
    env = {k: v for k, v in base.items() if k not in BOT_SETTINGS and not k.startswith(("SLACK_", "GENESYS_"))}
    env.update(dict.fromkeys(BOT_SETTINGS, ""))
    env.update({
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": slack.api_url,
        "GENESYS_CLOUD_API_HOST": simulator.url,
        "GENESYS_CLOUD_CLIENT_ID": simulator.client_id,
        "GENESYS_CLOUD_CLIENT_SECRET": simulator.client_secret,
        "TRANSFER_APPROVERS": ",".join(approvers),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": log_level,
        "PYTHONUNBUFFERED": "1",
    })
    return env


class PlaygroundRun:
    """Everything `make demo` runs. start() returns once the bot answers /healthz; stop() ends it all."""

    def __init__(self, *, port: int = DEFAULT_PORT, data_dir: Path, host: str = "127.0.0.1",
                 log_level: str = "INFO", keep_data: bool = False) -> None:
        from bot.simulator import GenesysSimulator

        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = self.data_dir / "playground.db"
        self.log_path = self.data_dir / "bot.log"
        if not keep_data:  # the simulator starts afresh, so old requests would only block the demo's calls
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        self.simulator = GenesysSimulator()
        self.slack = FakeSlack(
            bot_token=f"xoxb-playground-{secrets.token_hex(12)}", team_id="T0PLAYGRND", team_name="Playground",
            team_domain="playground", app_id="A0PLAYGRND", bot_user_id="U0TRANSBOT", bot_id="B0TRANSBOT",
            bot_name="Transfer bot", host=host, port=port,
        )
        self.signing_secret = secrets.token_hex(16)
        self.bot_port = free_port(host)
        self.org = SimulatedOrg(self.simulator)
        self.playground = Playground(
            slack=self.slack, org=self.org,
            bot=BotEndpoint(f"http://{host}:{self.bot_port}/slack/events", self.signing_secret),
        )
        self.log_level = log_level
        self.process: subprocess.Popen | None = None
        self.demo = None  # the simulator's DemoSeed, once seeded
        self._log = None

    @property
    def url(self) -> str:
        return f"{self.slack.url}/playground"

    def seed(self) -> None:
        from bot.simulator import seed_demo

        self.demo = seed_demo(self.simulator)
        for name in EXTRA_QUEUES:
            if self.org.queue_named(name) is None:
                self.simulator.add_queue(name)

    def start(self, *, timeout: float = 60.0) -> PlaygroundRun:
        self.simulator.start()
        self.seed()
        self.slack.start()
        if not APP.is_file():
            raise RuntimeError(f"{APP} not found: run the playground from a source checkout")
        env = bot_environment(
            base=dict(os.environ), slack=self.slack, simulator=self.simulator, signing_secret=self.signing_secret,
            approvers=[p.id for p in PEOPLE if p.role == "approver"],
            database_url=f"sqlite:///{self.database}", port=self.bot_port, log_level=self.log_level,
        )
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, str(APP), "--http"], cwd=self.data_dir, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)  # Ctrl-C reaches us; we stop the bot
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with status {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.bot_port, timeout=1)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.1)
        raise RuntimeError(f"the bot did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # app.py drains in-flight transfers on SIGTERM
            try:
                self.process.wait(25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None
        with contextlib.suppress(Exception):
            self.slack.stop()
        self.simulator.stop()
