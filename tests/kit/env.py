"""The environment a bot under test gets: the fake Slack, the simulator, a database."""

from __future__ import annotations

from bot.playground.slack_api import BOT_TOKEN, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def bot_env(slack: FakeSlack, sim, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "GENESYS_CLOUD_API_HOST": sim.url,
        "GENESYS_CLOUD_CLIENT_ID": sim.client_id,
        "GENESYS_CLOUD_CLIENT_SECRET": sim.client_secret,
        "DATABASE_URL": database_url,
        "GENESYS_READ_TIMEOUT": "2",
        "GENESYS_CONNECT_TIMEOUT": "1",
        "GENESYS_REQUEST_DEADLINE": "4",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env
