"""A small Bolt app with what the transfer bot is growing (a modal with the four input kinds, a
typeahead, a global and a message shortcut, an App Home), for testing the playground before the bot
has them. Served over HTTP by waitress, exactly like the bot.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from slack_bolt import App
from slack_sdk import WebClient

from bot.ops.health import Readiness
from bot.ops.server import create_server, make_ops_app
from bot.playground.slack_api import FakeSlack

SECRET = "0123456789abcdef0123456789abcdef"
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


@contextlib.contextmanager
def serve_modal_bot(slack: FakeSlack, seen: list) -> Iterator[str]:
    """Serve the app on 127.0.0.1; yields its /slack/events URL."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    events = SlackRequestHandler(build_app(slack, seen))
    server = create_server(make_ops_app(readiness=Readiness([]), liveness=lambda: {"status": "ok"},
                                        slack_events=events), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=_serve, args=(server,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/slack/events"
    finally:
        server.close()


def _serve(server) -> None:
    with contextlib.suppress(OSError):  # close() from another thread ends select() with EBADF
        server.run()
