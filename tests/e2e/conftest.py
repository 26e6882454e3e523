"""Fixtures: the Genesys simulator, a fake Slack, and the bot serving signed HTTP in between."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.playground.slack_api import FakeSlack
from bot.simulator import GenesysSimulator
from tests.integration.conftest import isolated_postgres_url, postgres_url  # noqa: F401 - shared fixtures
from tests.kit.bots import BotProcess, InProcessBot
from tests.kit.env import bot_env
from tests.kit.slack_client import SlackClientSide


@pytest.fixture
def sim() -> Iterator[GenesysSimulator]:
    simulator = GenesysSimulator().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def make_bot(sim: GenesysSimulator, slack: FakeSlack, tmp_path) -> Iterator[Callable[..., SlackClientSide]]:
    """Start the bot (HTTP mode, SQLite in tmp_path) with extra env; returns a signed Slack client for it."""
    bots: list[InProcessBot] = []

    def start(**extra_env: str) -> SlackClientSide:
        env = bot_env(slack, sim, f"sqlite:///{tmp_path / 'bot.db'}", **extra_env)
        bot = InProcessBot(env)
        bots.append(bot)
        client = SlackClientSide(slack, "127.0.0.1", bot.port)
        client.bot = bot  # type: ignore[attr-defined]
        return client

    yield start
    for bot in bots:
        bot.stop()


@pytest.fixture
def client(make_bot) -> SlackClientSide:
    return make_bot()


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    """Bot processes a test starts; stopped after it."""
    started: list[BotProcess] = []
    yield started
    for bot in started:
        bot.stop()
