"""The playground server against a small Bolt app with what the bot is growing: a modal with the four
input kinds, a typeahead, a global and a message shortcut, an App Home. Everything goes over signed
HTTP, exactly as the page drives it; no browser needed here (tests/browser drives the real bot).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.playground.genesys import SimulatedOrg
from bot.playground.payloads import BotEndpoint
from bot.playground.server import Playground
from bot.playground.slack_api import FakeSlack
from bot.simulator import GenesysSimulator, seed_demo
from tests.fakes.modal_bot import SECRET, serve_modal_bot

RILEY, SAM = "U0RILEY", "U0SAM"


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
    with serve_modal_bot(slack, seen) as url:
        playground = Playground(slack=slack, org=SimulatedOrg(sim), bot=BotEndpoint(url, SECRET))
        slack.start()
        yield World(slack, playground, seen)
        slack.stop()
    sim.stop()


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


def test_only_the_page_on_127_0_0_1_can_act(world: World):
    from email.message import Message

    from bot.playground.slack_api import HttpRequest

    def request(host: str, content_type: str) -> int:
        headers = Message()
        headers["Host"], headers["Content-Type"] = host, content_type
        body = b'{"user": "U0RILEY", "text": "hello"}'
        return world.playground.handle(HttpRequest("POST", "/playground/send", {}, headers, body)).status

    assert request("127.0.0.1:3000", "application/json") == 200
    assert request("127.0.0.1:3000", "text/plain") == 415  # what a cross-site form could send
    assert request("evil.example:3000", "application/json") == 421  # DNS rebinding
    assert [m.text for m, _ in world.slack.timeline(world.playground.channel_id, SAM)] == ["hello"]
