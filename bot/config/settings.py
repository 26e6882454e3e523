"""Settings from the environment (and `.env`), checked all at once, one concern per function.

An operator who gets three things wrong should learn about all three in one run, with where to
find each value, and no traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config.reader import Reader, split_list
from bot.domain.policy import PolicyRule

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///transfer-bot.db"
SIMULATED_DATABASE_URL = "sqlite:///transfer-bot-simulated.db"
_APPROVER_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_LOG_LEVELS = {"critical", "error", "warning", "info", "debug"}


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    mode: str  # "http", "socket" or "cli"
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
    slack_signing_secret_previous: str = ""
    approver_users: frozenset[str] = field(default_factory=frozenset)
    approver_groups: frozenset[str] = field(default_factory=frozenset)
    no_approval_queues: tuple[str, ...] = ()
    approval_channel: str | None = None
    approval_ttl_seconds: int = 900
    external_prefixes: tuple[str, ...] = ()
    external_no_approval: bool = False
    policy_file: str | None = None
    policy_rules: tuple[PolicyRule, ...] = ()
    confirm_timeout_seconds: int = 600
    genesys_connect_timeout: float = 3.0
    genesys_read_timeout: float = 10.0
    genesys_request_deadline: float = 15.0
    genesys_rate_limit_per_minute: int = 300
    genesys_rate_burst: int = 10
    transfer_workers: int = 32
    queue_cache_seconds: int = 300
    http_threads: int = 16
    ops_port: int = 3001
    log_format: str = "text"
    shutdown_grace_seconds: float = 8.0
    retention_days: int = 90

    @property
    def approvers(self) -> frozenset[str]:
        return self.approver_users | self.approver_groups


def load_settings(
    env: Mapping[str, str], *, force_mode: str | None = None, simulate: bool = False, require_slack: bool = True
) -> Settings:
    """Build Settings or raise ConfigError listing every problem.

    require_slack=False is for the command line, which talks to Genesys and the database only.
    """
    r = Reader(env)
    slack = _slack(r, force_mode, require_slack)
    genesys = _genesys(r) if not simulate else {}
    runtime = _runtime(r, simulate)
    approvals = _approvals(r)
    tuning = _tuning(r)
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(simulate_genesys=simulate, **slack, **_genesys_defaults(genesys), **runtime, **approvals,
                    **tuning)


def _slack(r: Reader, force_mode: str | None, require_slack: bool) -> dict:
    app_token = r.text("SLACK_APP_TOKEN")
    mode = force_mode or ("socket" if app_token else "http")
    if not require_slack:
        mode = "cli"
    bot_token = r.text("SLACK_BOT_TOKEN")
    if require_slack:
        bot_token = r.required(
            "SLACK_BOT_TOKEN", "a bot token starting with xoxb-",
            "Find it under OAuth & Permissions → Bot User OAuth Token after installing the app.", r"^xoxb-",
        )
    secret = r.text("SLACK_SIGNING_SECRET")
    previous = r.optional_secret("SLACK_SIGNING_SECRET_PREVIOUS", "the previous signing secret (hex)",
                                 r"^[0-9A-Za-z]{16,}$")
    if mode == "http":
        secret = r.required(
            "SLACK_SIGNING_SECRET", "the app's signing secret (hex)",
            "Find it under Basic Information → App Credentials → Signing Secret. HTTP mode needs it.",
            r"^[0-9A-Za-z]{16,}$",
        )
    if mode == "socket":
        app_token = r.required(
            "SLACK_APP_TOKEN", "an app-level token starting with xapp- with the connections:write scope",
            "Create it under Basic Information → App-Level Tokens. Socket Mode needs it (or run with --http).",
            r"^xapp-",
        )
    api_url = r.text("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if not re.match(r"^https?://[^/\s]+", api_url):
        r.problem(f"SLACK_API_URL is malformed: expected an http(s) URL such as {DEFAULT_SLACK_API_URL}.")
    elif not api_url.endswith("/"):
        api_url += "/"
    return {"mode": mode, "slack_bot_token": bot_token, "slack_signing_secret": secret,
            "slack_signing_secret_previous": previous, "slack_app_token": app_token, "slack_api_url": api_url}


def _genesys(r: Reader) -> dict:
    client_id = r.required(
        "GENESYS_CLOUD_CLIENT_ID", "the OAuth client id (a UUID) of a Client Credentials grant",
        "Create it in Genesys Cloud Admin → Integrations → OAuth, with a role that has "
        "conversation:communication:blindTransferQueue and routing:queue:view.",
    )
    secret = r.required(
        "GENESYS_CLOUD_CLIENT_SECRET", "that OAuth client's secret",
        "It is shown in Admin → Integrations → OAuth → your client → Client Details.",
    )
    api_base, login_base = _genesys_hosts(r)
    return {"genesys_client_id": client_id, "genesys_client_secret": secret, "genesys_api_base": api_base,
            "genesys_login_base": login_base}


def _genesys_defaults(values: dict) -> dict:
    return {"genesys_client_id": "", "genesys_client_secret": "", "genesys_api_base": "", "genesys_login_base": "",
            **values}


def _genesys_hosts(r: Reader) -> tuple[str, str]:
    from bot.genesys.hosts import resolve_hosts  # cheap: no SDK import

    region = r.text("GENESYS_CLOUD_REGION")
    api_host = r.text("GENESYS_CLOUD_API_HOST")
    if not region and not api_host:
        r.problem(
            "GENESYS_CLOUD_REGION is missing: expected an SDK region name such as us_east_1 or eu_west_2, "
            "or your org's domain such as mypurecloud.ie (the part after 'apps.' in your Genesys URL). "
            "Alternatively set GENESYS_CLOUD_API_HOST to a full base URL."
        )
        return "", ""
    try:
        return resolve_hosts(region or None, api_host or None)
    except ValueError as error:
        name = "GENESYS_CLOUD_API_HOST" if api_host else "GENESYS_CLOUD_REGION"
        r.problem(f"{name} is malformed: {error}")
        return "", ""


def _runtime(r: Reader, simulate: bool) -> dict:
    default_db = SIMULATED_DATABASE_URL if simulate else DEFAULT_DATABASE_URL
    database_url = r.text("DATABASE_URL", default_db)
    if not re.match(r"^(sqlite:///|postgres(ql)?://)", database_url):
        r.problem("DATABASE_URL is malformed: expected sqlite:///path.db (default "
                  f"{DEFAULT_DATABASE_URL}) or postgresql://user@host:5432/db.")
    level = r.choice("LOG_LEVEL", "info", _LOG_LEVELS).upper()
    return {
        "database_url": database_url,
        "port": int(r.number("PORT", 3000, low=0, high=65535)),
        "ops_port": int(r.number("OPS_PORT", 3001, low=0, high=65535)),
        "host": r.text("HOST", "0.0.0.0"),
        "log_level": level,
        "log_format": r.choice("LOG_FORMAT", "text", {"text", "json"}),
        "shutdown_grace_seconds": r.number("SHUTDOWN_GRACE_SECONDS", 8.0, low=0.5, high=300, integer=False),
        "retention_days": int(r.number("RETENTION_DAYS", 90, low=1, high=3650)),
    }


def _approvals(r: Reader) -> dict:
    users: set[str] = set()
    groups: set[str] = set()
    for item in split_list(r.text("TRANSFER_APPROVERS")):
        if not _APPROVER_ID.match(item):
            r.problem(f"TRANSFER_APPROVERS has {item!r}: expected Slack user ids (U…/W…) or user-group ids (S…), "
                      "comma-separated. Copy a member id from a Slack profile (⋯ → Copy member ID).")
        else:
            (groups if item.startswith("S") else users).add(item)
    channel = r.text("TRANSFER_APPROVAL_CHANNEL") or None
    if channel and not _CHANNEL_ID.match(channel):
        r.problem("TRANSFER_APPROVAL_CHANNEL is malformed: expected a channel id such as C0123ABCD "
                  "(channel details → About → Channel ID), not a #name.")
    prefixes = []
    for item in split_list(r.text("TRANSFER_EXTERNAL_PREFIXES")):
        if not re.match(r"^\+\d{1,6}$", item.replace(" ", "")):
            r.problem(f"TRANSFER_EXTERNAL_PREFIXES has {item!r}: expected E.164 prefixes such as +1,+44.")
        else:
            prefixes.append(item.replace(" ", ""))
    policy_file = r.text("TRANSFER_POLICY_FILE") or None
    rules: tuple[PolicyRule, ...] = ()
    if policy_file:
        from bot.config.policy_file import load_rules

        rules, problems = load_rules(policy_file)
        for problem in problems:
            r.problem(problem)
    return {
        "approver_users": frozenset(users),
        "approver_groups": frozenset(groups),
        "no_approval_queues": tuple(split_list(r.text("TRANSFER_NO_APPROVAL_QUEUES"))),
        "approval_channel": channel,
        "approval_ttl_seconds": int(r.number("TRANSFER_APPROVAL_TTL_SECONDS", 900, low=1, high=7 * 86400)),
        "external_prefixes": tuple(prefixes),
        "external_no_approval": r.boolean("TRANSFER_EXTERNAL_NO_APPROVAL", False),
        "policy_file": policy_file,
        "policy_rules": rules,
        "confirm_timeout_seconds": int(r.number("TRANSFER_CONFIRM_TIMEOUT_SECONDS", 600, low=5, high=86400)),
    }


def _tuning(r: Reader) -> dict:
    return {
        "genesys_connect_timeout": r.number("GENESYS_CONNECT_TIMEOUT", 3.0, low=0.1, high=60, integer=False),
        "genesys_read_timeout": r.number("GENESYS_READ_TIMEOUT", 10.0, low=0.1, high=120, integer=False),
        "genesys_request_deadline": r.number("GENESYS_REQUEST_DEADLINE", 15.0, low=0.5, high=300, integer=False),
        "genesys_rate_limit_per_minute": int(r.number("GENESYS_RATE_LIMIT_PER_MINUTE", 300, low=1, high=100000)),
        "genesys_rate_burst": int(r.number("GENESYS_RATE_BURST", 10, low=1, high=10000)),
        "transfer_workers": int(r.number("TRANSFER_WORKERS", 32, low=1, high=512)),
        "queue_cache_seconds": int(r.number("QUEUE_CACHE_SECONDS", 300, low=0, high=86400)),
        "http_threads": int(r.number("HTTP_THREADS", 16, low=1, high=256)),
    }


def env_names() -> tuple[str, ...]:
    """Every environment variable the settings read (the playground sets each one explicitly)."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    pattern = r'r\.(?:text|required|optional_secret|number|boolean|choice)\(\s*"([A-Z][A-Z0-9_]+)"'
    found = dict.fromkeys(re.findall(pattern, source))
    return tuple(found)


def load_dotenv_file(path: str = ".env") -> None:
    """Load .env without overriding variables already set in the real environment."""
    from dotenv import load_dotenv

    load_dotenv(dotenv_path=path, override=False)


def print_problems(error: ConfigError, *, heading: str, env: Mapping[str, str] | None = None) -> None:
    """The one way both entry points (app.py and python -m bot) report settings problems:
    plain lines for a terminal, or JSON lines when LOG_FORMAT=json asks for them."""
    import os

    from bot.logs import print_json_or_text

    env = os.environ if env is None else env
    json_output = (env.get("LOG_FORMAT") or "").strip().lower() == "json"
    print_json_or_text([heading, *(f"  - {p}" for p in error.problems)], json_output=json_output)
