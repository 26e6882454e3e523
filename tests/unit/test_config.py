"""Settings: every problem reported at once; `python app.py` exits 2 without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "0123456789abcdef0123",
    "GENESYS_CLOUD_REGION": "eu_west_2",
    "GENESYS_CLOUD_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "GENESYS_CLOUD_CLIENT_SECRET": "not-a-real-secret",
}


def test_good_settings_resolve_region_and_defaults():
    s = load_settings(GOOD)
    assert s.mode == "http"
    assert (s.genesys_api_base, s.genesys_login_base) == ("https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud")
    assert s.database_url.startswith("sqlite:///")
    assert s.port == 3000 and s.approval_ttl_seconds == 900


def test_domain_region_and_api_host_override():
    assert load_settings({**GOOD, "GENESYS_CLOUD_REGION": "mypurecloud.ie"}).genesys_api_base == "https://api.mypurecloud.ie"
    s = load_settings({**GOOD, "GENESYS_CLOUD_API_HOST": "http://127.0.0.1:9000"})
    assert (s.genesys_api_base, s.genesys_login_base) == ("http://127.0.0.1:9000", "http://127.0.0.1:9000")


def test_socket_mode_when_app_token_set():
    assert load_settings({**GOOD, "SLACK_APP_TOKEN": "xapp-1-A-1-abc"}).mode == "socket"
    assert load_settings({**GOOD, "SLACK_APP_TOKEN": "xapp-1-A-1-abc"}, force_mode="http").mode == "http"


def test_every_problem_is_reported_at_once():
    env = {"SLACK_BOT_TOKEN": "xoxp-user-token", "GENESYS_CLOUD_REGION": "moon_base_1", "PORT": "http",
           "TRANSFER_APPROVERS": "U123ABC,#supervisors", "TRANSFER_APPROVAL_CHANNEL": "#floor"}
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    text = "\n".join(info.value.problems)
    for name in ("SLACK_BOT_TOKEN is malformed", "SLACK_SIGNING_SECRET is missing", "GENESYS_CLOUD_CLIENT_ID",
                 "GENESYS_CLOUD_CLIENT_SECRET", "GENESYS_CLOUD_REGION is malformed", "PORT is malformed",
                 "TRANSFER_APPROVERS has '#supervisors'", "TRANSFER_APPROVAL_CHANNEL is malformed"):
        assert name in text


def test_simulator_needs_no_genesys_settings():
    s = load_settings({k: v for k, v in GOOD.items() if not k.startswith("GENESYS")}, simulate=True)
    assert s.simulate_genesys


def test_approvers_split_into_users_and_groups():
    env = {**GOOD, "TRANSFER_APPROVERS": "U0SUP1, W0SUP2 ,S0LEADS", "TRANSFER_NO_APPROVAL_QUEUES": "A, B c"}
    s = load_settings(env)
    assert s.approver_users == {"U0SUP1", "W0SUP2"} and s.approver_groups == {"S0LEADS"}
    assert s.no_approval_queues == ("A", "B c")


def test_app_exits_2_listing_problems_without_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN is missing" in done.stderr
    assert "GENESYS_CLOUD_CLIENT_ID is missing" in done.stderr
    assert "Traceback" not in done.stderr
