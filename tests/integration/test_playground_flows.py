"""The playground server against a small Bolt app with what the bot is growing: a modal with the four
input kinds, a typeahead, a global and a message shortcut, an App Home. Everything goes over signed
HTTP, exactly as the page drives it; no browser needed here (tests/browser drives the real bot).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.playground.genesys import SimulatedOrg
from bot.playground.payloads import BotEndpoint
from bot.playground.server import Playground
from bot.playground.slack_api import FakeSlack
from bot.simulator import GenesysSimulator, seed_demo
from bot.slack.server import create_http_server, make_wsgi_app

SECRET = "0123456789abcdef0123456789abcdef"
RILEY, SAM = "U0RILEY", "U0SAM"
QUEUES = ("Support Tier 1", "Support Tier 2", "Billing")


def modal(call: str = "") -> dict:
    return {
        "type": "modal", "callback_id": "transfer_modal", "notify_on_close": True,
        "title": {"type": "plain_text", "text": "Transfer a call"},
        "submit": {"type": "plain_text", "text": "Transfer"},
        "blocks": [
            {"type": "input", "block_id": "call", "label": {"type": "plain_text", "text": "Call"},
             "element": {"type": "plain_text_input", "action_id": "call", "initial_value": call}},
            {"type": "input", "block_id": "agent", "label": {"type": "plain_text", "text": "Agent"},
             "element": {"type": "users_select", "action_id": "agent"}},
            {"type": "input", "block_id": "queue", "label": {"type": "plain_text", "text": "Queue"},
             "element": {"type": "external_select", "action_id": "queue", "min_query_length": 1}},
            {"type": "input", "block_id": "channel", "label": {"type": "plain_text", "text": "Post to"},
             "element": {"type": "conversations_select", "action_id": "channel"}},
        ],
    }


def build_app(slack: FakeSlack, seen: list) -> App:
    app = App(client=WebClient(token=slack.bot_token, base_url=slack.api_url), signing_secret=SECRET,
              token_verification_enabled=False)

    @app.command("/transfer")
    def command(ack, command):
        if command["text"] == "loud":
            ack(response_type="in_channel", text="Everyone sees *this*")
        else:
            ack(text=f"got {command['text']}")

    @app.shortcut("transfer_call")
    def global_shortcut(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal())

    @app.shortcut("transfer_call_from_message")
    def message_shortcut(ack, body, client):
        ack()
        seen.append(body)
        client.views_open(trigger_id=body["trigger_id"], view=modal(body["message"]["text"]))

    @app.options("queue")
    def queue_options(ack, body):
        typed = body["value"].lower()
        ack(options=[{"text": {"type": "plain_text", "text": q}, "value": q} for q in QUEUES if typed in q.lower()])

    @app.view("transfer_modal")
    def submitted(ack, body, view, client):
        values = view["state"]["values"]
        call = values["call"]["call"]["value"] or ""
        if len(call) < 8:
            ack(response_action="errors", errors={"call": "That is not a conversation id."})
            return
        ack()
        client.chat_postMessage(
            channel=values["channel"]["channel"]["selected_conversation"],
            text=f"<@{body['user']['id']}> moves {call} to {values['queue']['queue']['selected_option']['value']} "
                 f"(agent <@{values['agent']['agent']['selected_user']}>)")

    @app.view_closed("transfer_modal")
    def closed(ack, body):
        ack()
        seen.append(body)

    @app.event("app_home_opened")
    def home(event, client):
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Your transfers*"}},
            {"type": "actions", "elements": [{"type": "button", "action_id": "home_refresh",
                                              "text": {"type": "plain_text", "text": "Refresh"}}]}]})

    @app.action("home_refresh")
    def refresh(ack, body, client):
        ack()
        client.views_publish(user_id=body["user"]["id"], view={"type": "home", "blocks": [
            {"type": "section", "text": {"type": "plain_text", "text": "Refreshed"}}]})

    return app


@dataclass
class World:
    slack: FakeSlack
    playground: Playground
    seen: list

    def main(self, user: str, place: str = "") -> str:
        return self.playground.state(user, place)["main"]

    def modal(self, user: str) -> str:
        state = self.playground.state(user, "")
        return state["modal"]["html"] if state["modal"] else ""


@pytest.fixture
def world() -> Iterator[World]:
    sim = GenesysSimulator().start()
    seed_demo(sim)
    slack = FakeSlack()
    seen: list = []
    server = create_http_server(make_wsgi_app(build_app(slack, seen), lambda: {"status": "ok"}),
                                host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=_serve, args=(server,), daemon=True)
    thread.start()
    playground = Playground(slack=slack, org=SimulatedOrg(sim),
                            bot=BotEndpoint(f"http://127.0.0.1:{server.effective_port}/slack/events", SECRET))
    slack.start()
    yield World(slack, playground, seen)
    server.close()
    slack.stop()
    sim.stop()


def _serve(server) -> None:
    with contextlib.suppress(OSError):
        server.run()


def test_a_slash_command_ack_is_shown_like_slack_shows_it(world: World):
    assert world.playground.do_send({"user": RILEY, "text": "/transfer quiet please"}) == {"ok": True}
    assert "got quiet please" in world.main(RILEY) and "Only visible to you" in world.main(RILEY)
    assert "got quiet please" not in world.main(SAM)
    world.playground.do_send({"user": RILEY, "text": "/transfer loud"})
    for user in (RILEY, SAM):  # in_channel: the command is echoed and the answer is in the channel
        assert "/transfer loud" in world.main(user) and "Everyone sees <b>this</b>" in world.main(user)


def test_unknown_commands_and_plain_messages(world: World):
    assert not world.playground.do_send({"user": RILEY, "text": "/nope"})["ok"]
    assert "is not a valid command" in world.main(RILEY) and "Slackbot" in world.main(RILEY)
    world.playground.do_send({"user": RILEY, "text": "call 55576b8d <b>please</b>"})
    assert "call 55576b8d &lt;b&gt;please&lt;/b&gt;" in world.main(SAM)


def test_a_bot_that_cannot_be_reached_is_reported(world: World):
    world.playground.bot = BotEndpoint("http://127.0.0.1:9/slack/events", SECRET)
    note = world.playground.do_send({"user": RILEY, "text": "/transfer x"})["note"]
    assert "dispatch_failed" in note and "dispatch_failed" in world.main(RILEY)


def test_wrong_signing_secret_gets_401(world: World):
    url = world.playground.bot.url
    world.playground.bot = BotEndpoint(url, "f" * 32)
    note = world.playground.do_send({"user": RILEY, "text": "/transfer x"})["note"]
    assert "HTTP 401" in note


def test_global_shortcut_modal_typeahead_errors_and_submission(world: World):
    p = world.playground
    assert p.do_shortcut({"user": RILEY, "callback_id": "transfer_call", "type": "global"})["ok"]
    world.slack.wait_for(lambda: world.slack.modal_stack(RILEY))  # views.open comes after the ack
    html = world.modal(RILEY)
    assert "Transfer a call" in html and 'data-kind="plain_text_input"' in html and 'data-kind="users_select"' in html
    assert 'data-kind="external_select"' in html and 'data-kind="conversations_select"' in html
    assert world.modal(SAM) == ""
    view_id = world.slack.modal_stack(RILEY)[0].id

    found = p.do_options({"user": RILEY, "container": {"kind": "view", "view_id": view_id}, "action_id": "queue",
                          "block_id": "queue", "value": "tier"})
    assert [o["text"] for o in found["options"]] == ["Support Tier 1", "Support Tier 2"]
    option = found["options"][1]["option"]

    values = {"call": {"call": {"type": "plain_text_input", "value": "short"}},
              "agent": {"agent": {"type": "users_select", "selected_user": "U0ALICE"}},
              "queue": {"queue": {"type": "external_select", "selected_option": option}},
              "channel": {"channel": {"type": "conversations_select", "selected_conversation": p.channel_id}}}
    assert p.do_submit({"user": RILEY, "view_id": view_id, "values": values}) == {"ok": True, "outcome": "errors"}
    html = world.modal(RILEY)
    assert "That is not a conversation id." in html and 'value="short"' in html and 'value="Support Tier 2"' in html

    values["call"]["call"]["value"] = "55576b8d-bcb3-5e8b-a6f9-af2a12ce13d7"
    assert p.do_submit({"user": RILEY, "view_id": view_id, "values": values}) == {"ok": True, "outcome": "closed"}
    assert world.modal(RILEY) == ""
    world.slack.wait_api("chat.postMessage")
    assert "@Riley Requester</span> moves 55576b8d" in world.main(SAM) and "@Alice Agent</span>" in world.main(SAM)


def test_message_shortcut_sends_the_message_and_closing_notifies(world: World):
    p = world.playground
    p.do_send({"user": RILEY, "text": "55576b8d-bcb3-5e8b-a6f9-af2a12ce13d7"})
    message = world.slack.timeline(p.channel_id, RILEY)[-1][0]
    assert p.do_shortcut({"user": SAM, "callback_id": "transfer_call_from_message", "type": "message",
                          "channel": p.channel_id, "ts": message.ts})["ok"]
    world.slack.wait_for(lambda: world.slack.modal_stack(SAM))
    body = world.seen[0]
    assert body["type"] == "message_action" and body["message"]["ts"] == message.ts and body["response_url"]
    assert 'value="55576b8d-bcb3-5e8b-a6f9-af2a12ce13d7"' in world.modal(SAM)
    p.do_close({"user": SAM, "view_id": world.slack.modal_stack(SAM)[0].id})
    assert world.modal(SAM) == ""
    assert world.seen[-1]["type"] == "view_closed"


def test_app_home_is_published_per_user_and_its_buttons_work(world: World):
    p = world.playground
    assert "has not published an App Home" in world.main(RILEY, "home")
    p.do_open_app({"user": RILEY, "tab": "home"})
    world.slack.wait_api("views.publish")
    assert "<b>Your transfers</b>" in world.main(RILEY, "home")
    assert "has not published" in world.main(SAM, "home")
    home = world.slack.home(RILEY)
    p.do_action({"user": RILEY, "container": {"kind": "view", "view_id": home.id},
                 "action": {"type": "button", "action_id": "home_refresh", "block_id": "b"}})
    world.slack.wait_api("views.publish", 2)
    assert "Refreshed" in world.main(RILEY, "home")


def test_genesys_panel_starts_and_ends_calls_and_changes_mode(world: World):
    p = world.playground
    new = p.do_genesys({"op": "new_call"})["conversation_id"]
    assert f'data-call-id="{new}"' in p.render_genesys()
    p.do_genesys({"op": "end_call", "conversation_id": new})
    assert [c.status for c in p.org.calls() if c.id == new] == ["ended"]
    p.do_genesys({"op": "mode", "mode": "failing"})
    assert p.org.mode == "failing" and 'data-mode="failing"' in p.render_genesys()
    p.do_genesys({"op": "mode", "mode": "normal"})
