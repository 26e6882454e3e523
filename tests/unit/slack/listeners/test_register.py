"""The listeners wired into a real Bolt App: each payload type reaches its handler and is acked."""

from __future__ import annotations

import json
import time

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.slack.listeners import register_listeners
from tests.unit.service.conftest import APPROVER, REQUESTER
from tests.unit.slack.conftest import HOOK, Harness


@pytest.fixture
def app(harness: Harness) -> App:
    def authorize(**kwargs):
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="UBOT",
                               bot_id="B1")

    bolt = App(client=WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/"), signing_secret="secret",
               authorize=authorize, request_verification_enabled=False)
    register_listeners(bolt, harness.deps)
    return bolt


def dispatch(app: App, body: dict):
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200, response.body
    return json.loads(response.body) if response.body and response.body.startswith("{") else response.body


def test_slash_command(app, harness: Harness):
    reply = dispatch(app, {"command": "/transfer", "text": "help", "user_id": REQUESTER, "channel_id": "C0SUPPORT",
                           "team_id": "T1", "response_url": HOOK, "trigger_id": "t"})
    assert "/transfer <conversation-id> <queue name>" in reply["text"]


def test_block_actions(app, harness: Harness):
    call = harness.world.genesys.add_call()
    request = harness.world.ask(call.id, "Support_Tier2")
    for action_id in ("transfer_approve", "transfer_deny", "transfer_cancel", "home_page_next"):
        dispatch(app, {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": APPROVER},
                       "actions": [{"action_id": action_id, "value": request.id if "transfer" in action_id else "1",
                                    "type": "button"}],
                       "container": {"type": "view"}, "trigger_id": "t"})
    assert len(harness.recorder.jobs) == 3 and harness.home.published == [(APPROVER, {"flash": None, "page": 1})]


def test_view_submission_and_options(app, harness: Harness):
    reply = dispatch(app, {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": REQUESTER},
                           "view": {"type": "modal", "callback_id": "transfer_modal", "state": {"values": {}},
                                    "private_metadata": "{}"}})
    assert reply["response_action"] == "errors"
    harness.deps.queues.refresh_catalog()
    options = dispatch(app, {"type": "block_suggestion", "team": {"id": "T1"}, "user": {"id": REQUESTER},
                             "action_id": "queue", "block_id": "queue", "value": "supp",
                             "view": {"type": "modal", "callback_id": "transfer_modal"}})
    assert [o["text"]["text"] for o in options["options"]] == ["Support_Tier1", "Support_Tier2"]


def test_shortcuts_and_home_event(app, harness: Harness):
    dispatch(app, {"type": "shortcut", "callback_id": "transfer_call", "team": {"id": "T1"},
                   "user": {"id": REQUESTER}, "trigger_id": "t1"})
    dispatch(app, {"type": "message_action", "callback_id": "transfer_call_from_message", "team": {"id": "T1"},
                   "user": {"id": REQUESTER}, "trigger_id": "t2", "channel": {"id": "C0SUPPORT"},
                   "message": {"text": "no id here", "ts": "1.2"}})
    assert [t for t, _ in harness.delivery.opened] == ["t1", "t2"]
    dispatch(app, {"type": "event_callback", "team_id": "T1", "event": {"type": "app_home_opened", "user": APPROVER,
                                                                        "tab": "home"}})
    deadline = time.monotonic() + 2
    while not harness.home.published and time.monotonic() < deadline:
        time.sleep(0.01)
    assert harness.home.published == [(APPROVER, {"flash": None, "page": 0})]
