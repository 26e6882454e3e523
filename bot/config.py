"""Settings from the environment (and `.env`), checked all at once.

An operator who gets three things wrong should learn about all three in one run, with where to
find each value, and no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///transfer-bot.db"
_APPROVER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_LOG_LEVELS = {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    mode: str  # "http" or "socket"
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str
    slack_api_url: str
    simulate_genesys: bool
    genesys_api_base: str
    genesys_login_base: str
    genesys_client_id: str
    genesys_client_secret: str
    database_url: str
    port: int
    log_level: str
    host: str = "0.0.0.0"
    approver_users: frozenset[str] = field(default_factory=frozenset)
    approver_groups: frozenset[str] = field(default_factory=frozenset)
    no_approval_queues: tuple[str, ...] = ()
    approval_channel: str | None = None
    approval_ttl_seconds: int = 900
    genesys_connect_timeout: float = 3.0
    genesys_read_timeout: float = 10.0
    genesys_rate_limit_per_minute: int = 300
    genesys_rate_burst: int = 10
    transfer_workers: int = 32
    queue_cache_seconds: int = 300
    http_threads: int = 16


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str = "") -> str:
        return (self.env.get(name) or default).strip()

    def required(self, name: str, expected: str, where: str, pattern: str | None = None) -> str:
        value = self.text(name)
        if not value:
            self.problems.append(f"{name} is missing: expected {expected}. {where}")
        elif pattern and not re.match(pattern, value):
            self.problems.append(f"{name} is malformed: expected {expected}. {where}")
        return value

    def number(self, name: str, default: float, *, low: float, high: float, integer: bool = True) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            self.problems.append(f"{name} is malformed: expected {kind} between {low:g} and {high:g}, got {raw!r}.")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} is out of range: expected {low:g}..{high:g}, got {raw}.")
            return default
        return value


def load_settings(
    env: Mapping[str, str], *, force_mode: str | None = None, simulate: bool = False, require_slack: bool = True
) -> Settings:
    """Build Settings or raise ConfigError listing every problem.

    require_slack=False is for the command line, which talks to Genesys and the database only.
    """
    r = _Reader(env)
    app_token = r.text("SLACK_APP_TOKEN")
    mode = force_mode or ("socket" if app_token else "http")
    if not require_slack:
        mode = "cli"

    bot_token = r.text("SLACK_BOT_TOKEN") if not require_slack else r.required(
        "SLACK_BOT_TOKEN",
        "a bot token starting with xoxb-",
        "Find it under OAuth & Permissions → Bot User OAuth Token after installing the app.",
        r"^xoxb-",
    )
    signing_secret = r.text("SLACK_SIGNING_SECRET")
    if mode == "http":
        signing_secret = r.required(
            "SLACK_SIGNING_SECRET",
            "the app's signing secret (hex)",
            "Find it under Basic Information → App Credentials → Signing Secret. HTTP mode needs it.",
            r"^[0-9A-Za-z]{16,}$",
        )
    if mode == "socket":
        app_token = r.required(
            "SLACK_APP_TOKEN",
            "an app-level token starting with xapp- with the connections:write scope",
            "Create it under Basic Information → App-Level Tokens. Socket Mode needs it (or run with --http).",
            r"^xapp-",
        )
    slack_api_url = r.text("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if not re.match(r"^https?://", slack_api_url):
        r.problems.append(f"SLACK_API_URL is malformed: expected an http(s) URL such as {DEFAULT_SLACK_API_URL}.")
    elif not slack_api_url.endswith("/"):
        slack_api_url += "/"

    api_base = login_base = client_id = client_secret = ""
    if not simulate:
        client_id = r.required(
            "GENESYS_CLOUD_CLIENT_ID",
            "the OAuth client id (a UUID) of a Client Credentials grant",
            "Create it in Genesys Cloud Admin → Integrations → OAuth, with a role that has "
            "conversation:communication:blindTransferQueue and routing:queue:view.",
        )
        client_secret = r.required(
            "GENESYS_CLOUD_CLIENT_SECRET",
            "that OAuth client's secret",
            "It is shown in Admin → Integrations → OAuth → your client → Client Details.",
        )
        api_base, login_base = _genesys_hosts(r)

    database_url = r.text("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not re.match(r"^(sqlite:///|postgres(ql)?://)", database_url):
        r.problems.append(
            "DATABASE_URL is malformed: expected sqlite:///path.db (default "
            f"{DEFAULT_DATABASE_URL}) or postgresql://user@host:5432/db."
        )
    log_level = r.text("LOG_LEVEL", "INFO").upper()
    if log_level not in _LOG_LEVELS:
        r.problems.append(f"LOG_LEVEL is malformed: expected one of {', '.join(sorted(_LOG_LEVELS))}.")

    approver_users: set[str] = set()
    approver_groups: set[str] = set()
    for item in _split(r.text("TRANSFER_APPROVERS")):
        if not _APPROVER_ID.match(item):
            r.problems.append(
                f"TRANSFER_APPROVERS has {item!r}: expected Slack user ids (U…/W…) or user-group ids (S…), "
                "comma-separated. Copy a member id from a Slack profile (⋯ → Copy member ID)."
            )
        elif item.startswith("S"):
            approver_groups.add(item)
        else:
            approver_users.add(item)
    approval_channel = r.text("TRANSFER_APPROVAL_CHANNEL") or None
    if approval_channel and not _CHANNEL_ID.match(approval_channel):
        r.problems.append(
            "TRANSFER_APPROVAL_CHANNEL is malformed: expected a channel id such as C0123ABCD "
            "(channel details → About → Channel ID), not a #name."
        )

    settings = Settings(
        mode=mode,
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=slack_api_url,
        simulate_genesys=simulate,
        genesys_api_base=api_base,
        genesys_login_base=login_base,
        genesys_client_id=client_id,
        genesys_client_secret=client_secret,
        database_url=database_url,
        port=int(r.number("PORT", 3000, low=1, high=65535)),
        host=r.text("HOST", "0.0.0.0"),
        log_level=log_level,
        approver_users=frozenset(approver_users),
        approver_groups=frozenset(approver_groups),
        no_approval_queues=tuple(_split(r.text("TRANSFER_NO_APPROVAL_QUEUES"))),
        approval_channel=approval_channel,
        approval_ttl_seconds=int(r.number("TRANSFER_APPROVAL_TTL_SECONDS", 900, low=1, high=7 * 86400)),
        genesys_connect_timeout=r.number("GENESYS_CONNECT_TIMEOUT", 3.0, low=0.1, high=60, integer=False),
        genesys_read_timeout=r.number("GENESYS_READ_TIMEOUT", 10.0, low=0.1, high=120, integer=False),
        genesys_rate_limit_per_minute=int(r.number("GENESYS_RATE_LIMIT_PER_MINUTE", 300, low=1, high=100000)),
        genesys_rate_burst=int(r.number("GENESYS_RATE_BURST", 10, low=1, high=10000)),
        transfer_workers=int(r.number("TRANSFER_WORKERS", 32, low=1, high=512)),
        queue_cache_seconds=int(r.number("QUEUE_CACHE_SECONDS", 300, low=0, high=86400)),
        http_threads=int(r.number("HTTP_THREADS", 16, low=1, high=256)),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def _genesys_hosts(r: _Reader) -> tuple[str, str]:
    from bot.genesys.hosts import resolve_hosts  # no SDK import: cheap

    region = r.text("GENESYS_CLOUD_REGION")
    api_host = r.text("GENESYS_CLOUD_API_HOST")
    if not region and not api_host:
        r.problems.append(
            "GENESYS_CLOUD_REGION is missing: expected an SDK region name such as us_east_1 or eu_west_2, "
            "or your org's domain such as mypurecloud.ie (the part after 'apps.' in your Genesys URL). "
            "Alternatively set GENESYS_CLOUD_API_HOST to a full base URL."
        )
        return "", ""
    if api_host and not re.match(r"^https?://[^/\s]+", api_host):
        r.problems.append("GENESYS_CLOUD_API_HOST is malformed: expected a full base URL such as https://api.mypurecloud.ie.")
        return "", ""
    try:
        return resolve_hosts(region or None, api_host or None)
    except ValueError as error:
        r.problems.append(f"GENESYS_CLOUD_REGION is malformed: {error}")
        return "", ""


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def load_dotenv_file(path: str | Path = ".env") -> None:
    """Load .env without overriding variables already set in the real environment."""
    from dotenv import load_dotenv

    load_dotenv(dotenv_path=path, override=False)
