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


def test_simulator_needs_no_genesys_settings_and_keeps_its_own_database():
    s = load_settings({k: v for k, v in GOOD.items() if not k.startswith("GENESYS")}, simulate=True)
    assert s.simulate_genesys and s.database_url == "sqlite:///transfer-bot-simulated.db"


def test_example_placeholders_are_refused_by_name():
    example = {
        "SLACK_BOT_TOKEN": "xoxb-your-bot-token", "SLACK_SIGNING_SECRET": "your-signing-secret",
        "SLACK_APP_TOKEN": "xapp-your-app-level-token", "GENESYS_CLOUD_REGION": "eu_west_2",
        "GENESYS_CLOUD_CLIENT_ID": "00000000-0000-0000-0000-000000000000",
        "GENESYS_CLOUD_CLIENT_SECRET": "your-client-secret",
    }
    with pytest.raises(ConfigError) as info:
        load_settings(example)
    placeholders = [p for p in info.value.problems if "still the placeholder from .env.example" in p]
    assert {p.split()[0] for p in placeholders} == {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "GENESYS_CLOUD_CLIENT_ID",
                                                   "GENESYS_CLOUD_CLIENT_SECRET"}


def test_operations_settings_are_checked_with_the_rest():
    env = {**GOOD, "OPS_PORT": "x", "LOG_FORMAT": "xml", "SHUTDOWN_GRACE_SECONDS": "-1", "RETENTION_DAYS": "0",
           "TRANSFER_EXTERNAL_PREFIXES": "+1,44", "TRANSFER_EXTERNAL_NO_APPROVAL": "maybe"}
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    text = "\n".join(info.value.problems)
    for name in ("OPS_PORT", "LOG_FORMAT", "SHUTDOWN_GRACE_SECONDS", "RETENTION_DAYS",
                 "TRANSFER_EXTERNAL_PREFIXES has '44'", "TRANSFER_EXTERNAL_NO_APPROVAL"):
        assert name in text
    s = load_settings({**GOOD, "OPS_PORT": "9100", "LOG_FORMAT": "JSON", "TRANSFER_EXTERNAL_PREFIXES": "+1, +44"})
    assert (s.ops_port, s.log_format, s.external_prefixes, s.shutdown_grace_seconds) == (9100, "json", ("+1", "+44"),
                                                                                          8.0)


POLICY = """
rules:
  - kind: queue
    target: "Escalations"
    approvers: [U0ABC, S0SUP]
    approvals_required: 2
    break_glass: true
  - kind: number
    target: "+44"
  - kind: queue
    target: "Support"
    direct: ["*"]
    media: [chat]
"""


def test_policy_file_yaml_and_toml(tmp_path):
    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text(POLICY)
    s = load_settings({**GOOD, "TRANSFER_POLICY_FILE": str(yaml_file)})
    assert [(r.target, r.approvals_required, r.break_glass) for r in s.policy_rules] == [
        ("Escalations", 2, True), ("+44", 1, False), ("Support", 1, False)]
    toml_file = tmp_path / "policy.toml"
    toml_file.write_text('[[rules]]\nkind = "agent"\ntarget = "bob@example.com"\napprovals_required = 1\n')
    assert load_settings({**GOOD, "TRANSFER_POLICY_FILE": str(toml_file)}).policy_rules[0].target == "bob@example.com"


def test_policy_file_problems_are_all_listed(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - kind: planet\n    target: x\n  - kind: queue\n    approvals_required: 3\n"
                   "    approvers: [nobody]\n    colour: red\n  - kind: agent\n    target: bob\n")
    with pytest.raises(ConfigError) as info:
        load_settings({**GOOD, "TRANSFER_POLICY_FILE": str(bad), "PORT": "x"})
    text = "\n".join(info.value.problems)
    for expected in ("rule 1: kind must be queue, agent or number", "rule 2: target must be",
                     "rule 2: approvals_required must be 1 or 2", "'nobody' is not a Slack user",
                     "unknown key 'colour'", "rule 3: an agent target is an email", "PORT is malformed"):
        assert expected in text
    with pytest.raises(ConfigError) as info:
        load_settings({**GOOD, "TRANSFER_POLICY_FILE": str(tmp_path / "nope.yaml")})
    assert "does not exist" in info.value.problems[0]


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


def test_env_example_documents_every_variable_the_settings_read():
    import re

    from bot.config import env_names

    read = set(env_names())
    assert len(read) > 30 and {"OPS_PORT", "TRANSFER_POLICY_FILE", "SLACK_SIGNING_SECRET_PREVIOUS"} <= read
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


@pytest.mark.parametrize(("name", "value", "says"), [
    ("OPS_PORT", "70000", "OPS_PORT is out of range"),
    ("OPS_PORT", "ops", "OPS_PORT is malformed"),
    ("LOG_FORMAT", "logfmt", "LOG_FORMAT is malformed: expected one of json, text"),
    ("SHUTDOWN_GRACE_SECONDS", "0", "SHUTDOWN_GRACE_SECONDS is out of range"),
    ("SHUTDOWN_GRACE_SECONDS", "8s", "SHUTDOWN_GRACE_SECONDS is malformed"),
    ("RETENTION_DAYS", "1.5", "RETENTION_DAYS is malformed: expected a whole number"),
    ("RETENTION_DAYS", "0", "RETENTION_DAYS is out of range"),
])
def test_each_operations_setting_names_its_problem(name, value, says):
    with pytest.raises(ConfigError) as info:
        load_settings({**GOOD, name: value})
    assert [p for p in info.value.problems if p.startswith(says)], info.value.problems


def test_malformed_operations_settings_exit_2_listed_with_the_rest(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD, "SLACK_SIGNING_SECRET": "",
           "OPS_PORT": "http", "LOG_FORMAT": "yaml", "SHUTDOWN_GRACE_SECONDS": "soon", "RETENTION_DAYS": "-5"}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    for name in ("SLACK_SIGNING_SECRET", "OPS_PORT", "LOG_FORMAT", "SHUTDOWN_GRACE_SECONDS", "RETENTION_DAYS"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_with_log_format_json_the_problems_are_json_lines(tmp_path):
    import json

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **GOOD, "LOG_FORMAT": "json",
           "OPS_PORT": "-1", "RETENTION_DAYS": "forever"}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert records and all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    messages = " ".join(r["message"] for r in records)
    assert "OPS_PORT" in messages and "RETENTION_DAYS" in messages
