"""`python -m bot.playground` (what `make demo` runs): one URL, no .env, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.playground.runner import BOT_SETTINGS, bot_environment

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_DOTENV = """\
SLACK_BOT_TOKEN=xoxb-from-dotenv
SLACK_SIGNING_SECRET=fromdotenvfromdotenv
SLACK_APP_TOKEN=xapp-from-dotenv
SLACK_API_URL=https://slack.com/api/
GENESYS_CLOUD_REGION=eu_west_2
TRANSFER_APPROVERS=U0DOTENV
TRANSFER_APPROVAL_CHANNEL=C0DOTENV
TRANSFER_NO_APPROVAL_QUEUES=Support Tier 2
DATABASE_URL=sqlite:///transfer-bot.db
"""


class _Fake:
    bot_token = "xoxb-playground-1"
    api_url = "http://127.0.0.1:1/api/"
    url = "http://127.0.0.1:2"
    client_id = "sim-client"
    client_secret = "sim-secret"


def test_every_setting_in_env_example_is_set_explicitly_for_the_bot():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert documented <= set(BOT_SETTINGS), documented - set(BOT_SETTINGS)
    env = bot_environment(base={"PATH": "/bin", "SLACK_APP_TOKEN": "xapp-mine", "GENESYS_CLOUD_REGION": "x",
                                "GENESYS_SOMETHING_NEW": "y"}, slack=_Fake(), simulator=_Fake(),
                          signing_secret="s" * 32, approvers=["U0SAM"], database_url="sqlite:///p.db", port=1234)
    assert set(BOT_SETTINGS) <= set(env) and "GENESYS_SOMETHING_NEW" not in env and env["PATH"] == "/bin"
    assert (env["SLACK_APP_TOKEN"], env["GENESYS_CLOUD_REGION"], env["TRANSFER_APPROVAL_CHANNEL"]) == ("", "", "")


def test_a_dotenv_file_cannot_override_the_playground_environment(tmp_path):
    """app.py loads .env with override=False: every variable we set, even to "", wins."""
    (tmp_path / ".env").write_text(HOSTILE_DOTENV)
    env = bot_environment(base=dict(os.environ), slack=_Fake(), simulator=_Fake(), signing_secret="s" * 32,
                          approvers=["U0SAM", "U0JORDAN"], database_url="sqlite:///p.db", port=1234)
    env["PYTHONPATH"] = str(ROOT)
    probe = ("import json, os; from bot.config import load_dotenv_file; load_dotenv_file(); "
             f"print(json.dumps({{k: os.environ.get(k) for k in {list(BOT_SETTINGS)!r}}}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    seen = json.loads(out.stdout)
    assert seen["SLACK_BOT_TOKEN"] == "xoxb-playground-1" and seen["SLACK_APP_TOKEN"] == ""
    assert seen["SLACK_API_URL"] == _Fake.api_url and seen["GENESYS_CLOUD_REGION"] == ""
    assert seen["TRANSFER_APPROVERS"] == "U0SAM,U0JORDAN" and seen["TRANSFER_APPROVAL_CHANNEL"] == ""
    assert seen["TRANSFER_NO_APPROVAL_QUEUES"] == "" and seen["DATABASE_URL"] == "sqlite:///p.db"


def test_python_m_bot_playground_prints_one_url_serves_the_page_and_stops_cleanly(tmp_path):
    (tmp_path / ".env").write_text(HOSTILE_DOTENV)  # ignored: the demo needs no .env and reads none for Slack
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GENESYS_", "TRANSFER_"))}
    env.update({"PORT": "0", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "bot.playground", "--data-dir", str(tmp_path / "data")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        match = re.fullmatch(r"Slack playground: (http://127\.0\.0\.1:\d+/playground)\n", first)
        assert match, first + proc.stdout.read() if proc.poll() is not None else first
        url = match.group(1)
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b"playground.js" in page.read()
        with urllib.request.urlopen(url.replace("/playground", "/playground/config"), timeout=10) as config:
            assert [p["role"] for p in json.load(config)["people"]] == ["requester", "approver", "approver", "agent"]
        assert (tmp_path / "data" / "playground.db").exists() and not (tmp_path / "transfer-bot.db").exists()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=40)[0]
        assert proc.returncode == 0, rest
        assert time.monotonic() - started < 30
        assert "http" not in rest  # one URL in all
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = (tmp_path / "data" / "bot.log").read_text()
    assert "HTTP mode: listening" in log and "approvals on: 2 approver user(s)" in log
