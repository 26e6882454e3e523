"""The fake Slack behaves like Slack where the bot and the playground depend on it, through slack_sdk itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.playground.slack_api import BOT_TOKEN, FakeSlack, SlackUser

MODAL = {"type": "modal", "callback_id": "transfer_modal", "title": {"type": "plain_text", "text": "Transfer"},
         "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id="T0CUSTOM", users=[
        SlackUser("U0ALICE", "alice", "Alice Agent", "alice@example.com"),
        SlackUser("U0HIDDEN", "hidden", "Hidden Email"),
    ]).start()
    yield fake
    fake.stop()


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])


def error_of(call) -> tuple[int, str]:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response.status_code, caught.value.response["error"]


# ---- identity and people ----

def test_auth_test_names_the_bot_its_team_and_app(slack, client):
    answer = client.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"], answer["app_id"]) == (
        "T0CUSTOM", slack.bot_user_id, slack.bot_id, slack.app_id)
    assert error_of(lambda: WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()) == (200, "invalid_auth")


def test_users_info_has_the_email_unless_it_is_hidden(client):
    assert client.users_info(user="U0ALICE")["user"]["profile"]["email"] == "alice@example.com"
    assert "email" not in client.users_info(user="U0HIDDEN")["user"]["profile"]
    assert error_of(lambda: client.users_info(user="U0NOBODY")) == (200, "user_not_found")
    assert client.users_lookupByEmail(email="ALICE@example.com")["user"]["id"] == "U0ALICE"
    assert error_of(lambda: client.users_lookupByEmail(email="x@example.com")) == (200, "users_not_found")


def test_usergroups_users_list(slack, client):
    slack.usergroups["S0LEADS"] = ["U0ALICE"]
    assert client.usergroups_users_list(usergroup="S0LEADS")["users"] == ["U0ALICE"]
    assert error_of(lambda: client.usergroups_users_list(usergroup="S0NONE")) == (200, "no_such_subteam")


# ---- messages ----

def test_messages_threads_and_in_place_updates(slack, client):
    first = client.chat_postMessage(channel="C0FLOOR", text="approve?", blocks=[{"type": "divider"}])
    reply = client.chat_postMessage(channel="C0FLOOR", text="in thread", thread_ts=first["ts"])
    assert first["channel"] == "C0FLOOR" and reply["ts"] != first["ts"]
    updated = client.chat_update(channel="C0FLOOR", ts=first["ts"], text="done")
    assert updated["ts"] == first["ts"] and updated["message"]["blocks"] == [{"type": "divider"}]  # blocks kept
    client.chat_update(channel="C0FLOOR", ts=first["ts"], text="done", blocks=[])
    unknown = error_of(lambda: client.chat_update(channel="C0FLOOR", ts="1.000009", text="x"))
    assert unknown == (200, "message_not_found")
    [(message, replies)] = slack.timeline("C0FLOOR", "U0ALICE")
    assert (message.ts, message.text, message.blocks, [r.text for r in replies]) == (first["ts"], "done", None,
                                                                                   ["in thread"])
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        assert error_of(lambda: client.chat_postMessage(channel="C0FLOOR")) == (200, "no_text")
    assert error_of(lambda: client.chat_postMessage(channel="#nowhere", text="x")) == (200, "channel_not_found")


def test_a_message_to_a_user_id_is_a_dm(slack, client):
    posted = client.chat_postMessage(channel="U0ALICE", text="psst")
    assert posted["channel"].startswith("D") and posted["channel"] == slack.dm_channel("U0ALICE").id
    assert [m.text for m, _ in slack.timeline(posted["channel"], "U0ALICE")] == ["psst"]


def test_ephemeral_messages_are_seen_only_by_their_user(slack, client):
    client.chat_postMessage(channel="C0FLOOR", text="everyone")
    client.chat_postEphemeral(channel="C0FLOOR", user="U0ALICE", text="just alice")
    assert [m.text for m, _ in slack.timeline("C0FLOOR", "U0ALICE")] == ["everyone", "just alice"]
    assert [m.text for m, _ in slack.timeline("C0FLOOR", "U0SAM")] == ["everyone"]
    slack.add_channel("C0PRIVATE", "private", members=["U0SAM", slack.bot_user_id])
    assert error_of(lambda: client.chat_postEphemeral(channel="C0PRIVATE", user="U0ALICE", text="x")) == (
        200, "user_not_in_channel")


def test_history_is_newest_first_with_metadata_only_when_asked(client):
    metadata = {"event_type": "transfer_requested", "event_payload": {"request_id": "r1"}}
    first = client.chat_postMessage(channel="C0FLOOR", text="one", metadata=metadata)
    client.chat_postMessage(channel="C0FLOOR", text="reply", thread_ts=first["ts"])
    client.chat_postMessage(channel="C0FLOOR", text="two")
    plain = client.conversations_history(channel="C0FLOOR")["messages"]
    assert [m["text"] for m in plain] == ["two", "one"] and "metadata" not in plain[1]
    assert plain[1]["reply_count"] == 1
    rich = client.conversations_history(channel="C0FLOOR", include_all_metadata=True)["messages"]
    assert rich[1]["metadata"] == metadata
    paged = client.conversations_history(channel="C0FLOOR", limit=1)
    assert paged["has_more"] and paged["response_metadata"]["next_cursor"]
    replies = client.conversations_replies(channel="C0FLOOR", ts=first["ts"])["messages"]
    assert [m["text"] for m in replies] == ["one", "reply"]


# ---- views ----

def test_a_trigger_opens_one_view_within_three_seconds(slack, client):
    trigger = slack.issue_trigger("U0ALICE")
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["callback_id"] == "transfer_modal" and view["id"].startswith("V")
    assert [v.id for v in slack.modal_stack("U0ALICE")] == [view["id"]]
    assert error_of(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (200, "exchanged_trigger_id")
    assert error_of(lambda: client.views_open(trigger_id="123.456.abc", view=MODAL)) == (200, "invalid_trigger_id")
    slack.trigger_ttl = 0.05
    late = slack.issue_trigger("U0ALICE")
    time.sleep(0.1)
    assert error_of(lambda: client.views_open(trigger_id=late, view=MODAL)) == (200, "expired_trigger_id")


def test_views_push_update_and_the_stack_limit(slack, client):
    root = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=MODAL)["view"]
    pushed = client.views_push(trigger_id=slack.issue_trigger("U0ALICE"), view=MODAL)["view"]
    assert pushed["root_view_id"] == root["id"] and pushed["previous_view_id"] == root["id"]
    client.views_push(trigger_id=slack.issue_trigger("U0ALICE"), view=MODAL)
    assert error_of(lambda: client.views_push(trigger_id=slack.issue_trigger("U0ALICE"), view=MODAL)) == (
        200, "push_limit_reached")
    new = dict(MODAL, title={"type": "plain_text", "text": "Updated"})
    assert error_of(lambda: client.views_update(view_id=root["id"], hash="stale", view=new)) == (200, "hash_conflict")
    updated = client.views_update(view_id=root["id"], hash=root["hash"], view=new)["view"]
    assert updated["title"]["text"] == "Updated" and updated["hash"] != root["hash"]
    assert error_of(lambda: client.views_update(view_id="VNOPE", view=new)) == (200, "not_found")


def test_views_publish_keeps_one_home_per_user(slack, client):
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}]}
    first = client.views_publish(user_id="U0ALICE", view=home)["view"]
    again = client.views_publish(user_id="U0ALICE", view=home)["view"]
    assert first["id"] == again["id"] and slack.home("U0ALICE").id == first["id"] and slack.home("U0SAM") is None
    assert error_of(lambda: client.views_publish(user_id="U0ALICE", view=MODAL)) == (200, "invalid_arguments")


def test_a_view_submission_ack_is_applied_like_slack(slack, client):
    view = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=MODAL)["view"]
    assert slack.submission_answered("U0ALICE", view["id"], {"response_action": "errors",
                                                             "errors": {"call": "Not an id"}}) == "errors"
    assert slack.view(view["id"]).errors == {"call": "Not an id"}
    pushed = {"response_action": "push", "view": dict(MODAL, callback_id="second")}
    assert slack.submission_answered("U0ALICE", view["id"], pushed) == "push"
    assert len(slack.modal_stack("U0ALICE")) == 2
    top = slack.modal_stack("U0ALICE")[-1]
    assert slack.submission_answered("U0ALICE", top.id, None) == "closed"  # an empty ack closes the top view
    assert [v.id for v in slack.modal_stack("U0ALICE")] == [view["id"]]
    assert slack.submission_answered("U0ALICE", view["id"], {"response_action": "clear"}) == "clear"
    assert slack.modal_stack("U0ALICE") == []


# ---- response_url ----

def test_response_urls_post_ephemeral_in_channel_replace_and_delete(slack, client):
    source = client.chat_postEphemeral(channel="C0FLOOR", user="U0ALICE", text="pending", blocks=[{"type": "divider"}])
    hook = WebhookClient(slack.open_response_url(channel="C0FLOOR", user="U0ALICE", source_ts=source["message_ts"],
                                                 ephemeral=True))
    assert hook.send(text="private note").status_code == 200
    assert hook.send(text="cancelled", replace_original=True).status_code == 200
    assert hook.send(text="for all", response_type="in_channel").status_code == 200
    alice = [(m.text, m.ephemeral_to) for m, _ in slack.timeline("C0FLOOR", "U0ALICE")]
    assert alice == [("cancelled", "U0ALICE"), ("private note", "U0ALICE"), ("for all", None)]
    assert slack.find_message("C0FLOOR", source["message_ts"]).blocks is None  # replaced whole
    assert hook.send(delete_original=True).status_code == 200
    assert [m.text for m, _ in slack.timeline("C0FLOOR", "U0ALICE")] == ["private note", "for all"]
    assert hook.send(text="fifth").status_code == 200
    sixth = hook.send(text="sixth")
    assert (sixth.status_code, sixth.body) == (404, '{"ok": false, "error": "used_url"}')


def test_an_in_channel_command_response_echoes_the_command_once(slack):
    hook = WebhookClient(slack.open_response_url(channel="C0FLOOR", user="U0ALICE", command_text="/transfer x y"))
    hook.send(text="one", response_type="in_channel")
    hook.send(text="two", response_type="in_channel")
    shown = [(m.command, m.text) for m, _ in slack.timeline("C0FLOOR", "U0SAM")]
    assert shown == [("/transfer x y", "/transfer x y"), (None, "one"), (None, "two")]


def test_response_urls_not_issued_here_are_only_recorded(slack):
    assert WebhookClient(slack.response_url("k1")).send(text="hi").status_code == 200
    assert slack.responses("k1") == [{"text": "hi"}]


# ---- failures on demand ----

def test_failures_by_error_code_status_and_rate_limit(slack, client):
    slack.failures["chat.postMessage"] = "not_in_channel"
    assert error_of(lambda: client.chat_postMessage(channel="C0FLOOR", text="x")) == (200, "not_in_channel")
    del slack.failures["chat.postMessage"]

    slack.inject("chat.update", status=500, times=1)
    posted = client.chat_postMessage(channel="C0FLOOR", text="x")
    assert error_of(lambda: client.chat_update(channel="C0FLOOR", ts=posted["ts"], text="y")) == (500, "fatal_error")
    assert client.chat_update(channel="C0FLOOR", ts=posted["ts"], text="y")["ok"]  # times=1: next call works

    slack.inject("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0FLOOR", text="x")
    assert caught.value.response.status_code == 429 and caught.value.response.headers["retry-after"] == "7"

    slack.set_rate_limit("chat.postEphemeral", per_minute=1)
    client.chat_postEphemeral(channel="C0FLOOR", user="U0ALICE", text="first")
    assert error_of(lambda: client.chat_postEphemeral(channel="C0FLOOR", user="U0ALICE", text="2")) == (
        429, "ratelimited")
    slack.set_rate_limit("chat.postEphemeral", None)
    assert client.chat_postEphemeral(channel="C0FLOOR", user="U0ALICE", text="third")["ok"]


def test_a_dropped_connection_is_recorded_and_may_have_happened(slack, client):
    slack.inject("chat.postMessage", drop_connection=True, apply=True)
    with pytest.raises(Exception) as caught:  # urllib's RemoteDisconnected / URLError
        client.chat_postMessage(channel="C0FLOOR", text="lost answer")
    assert not isinstance(caught.value, SlackApiError)
    assert [c["text"] for c in slack.api_calls("chat.postMessage")] == ["lost answer"]
    assert [m.text for m, _ in slack.timeline("C0FLOOR", "U0ALICE")] == ["lost answer"]  # apply=True: it was posted

    slack.inject("chat.postMessage", drop_connection=True)
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        client.chat_postMessage(channel="C0FLOOR", text="never posted")
    assert len(slack.api_calls("chat.postMessage")) == 2
    assert [m.text for m, _ in slack.timeline("C0FLOOR", "U0ALICE")] == ["lost answer"]


def test_response_url_faults_too(slack):
    slack.inject("response_url", status=500)
    assert WebhookClient(slack.response_url("k")).send(text="x").status_code == 500
    assert slack.responses("k") == [{"text": "x"}]


def test_a_command_response_url_replaces_the_message_it_posted(slack):
    hook = WebhookClient(slack.open_response_url(channel="C0FLOOR", user="U0ALICE", command_text="/transfer x y"))
    hook.send(text="sent, not confirmed yet", response_type="in_channel")
    hook.send(text="transferred", response_type="in_channel", replace_original=True)
    shown = [(m.command, m.text) for m, _ in slack.timeline("C0FLOOR", "U0SAM")]
    assert shown == [("/transfer x y", "/transfer x y"), (None, "transferred")]
