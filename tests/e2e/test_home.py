"""The App Home tab end to end: what each viewer sees, clicks made there, and who gets re-published.

Home clicks come as block_actions from a view (no response_url, no channel); the bot answers the
clicker by re-publishing their Home with a notice, and the channel's approval message follows.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.request import RequestState

REPLACE = r"/participants/[^/]+/replace/queue$"
REQUESTER = "U0AGENT01"
OTHER_AGENT = "U0AGENT02"
SUPERVISOR = "U0SUP0001"
OUTSIDER = "U0RANDOM1"
APPROVAL_CHANNEL = "C0APPROVE"
FLOOR = "C0FLOOR01"
APPROVAL_ENV = {"TRANSFER_APPROVERS": SUPERVISOR, "TRANSFER_APPROVAL_CHANNEL": APPROVAL_CHANNEL}
S = RequestState


@pytest.fixture
def bot(make_bot):
    client = make_bot(**APPROVAL_ENV)
    assert client.bot.runtime.genesys.wait_ready(90)  # the SDK import is slow on a loaded machine
    return client


def transfers(sim):
    return sim.requests_matching("POST", REPLACE)


def store(client):
    return client.bot.service.ctx.store


def ask(sim, slack, client, queue_name="Billing", user=REQUESTER, agent="Alice"):
    """A transfer that needs approval; returns (call, request id) once its approval message is posted."""
    sim.add_queue(queue_name)
    call = sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales-{uuid.uuid4().hex[:6]}"), agent_name=agent)
    before = len(approval_posts(slack))
    reply, key = client.command(f"{call.id} {queue_name}", user=user)
    assert reply.status == 200
    post = slack.wait_for(lambda: len(approval_posts(slack)) > before and approval_posts(slack))[before]
    # The requester's private "waiting for approval" notice comes separately; wait for it too, so that
    # a test that watches what comes next doesn't see it late.
    slack.wait_for(lambda: any("waiting for a supervisor" in json.dumps(r) for r in slack.responses(key)), timeout=20)
    return call, post["blocks"][2]["elements"][0]["value"]


def approval_posts(slack):
    return [p for p in slack.api_calls("chat.postMessage")
            if p.get("channel") == APPROVAL_CHANNEL and not p.get("thread_ts")]


def publishes(slack, user, since=0):
    """views.publish calls for `user` (with when Slack received them), from the `since`-th recorded call on."""
    received = list(slack.received)[since:]
    return [(r.at, r.payload) for r in received
            if r.kind == "api" and r.name == "views.publish" and r.payload.get("user_id") == user]


def sent_view(payload):
    view = payload["view"]
    return json.loads(view) if isinstance(view, str) else view


def mark(slack):
    return len(slack.received)


def home_of(slack, user, predicate=lambda view: True, timeout=15.0):
    """Wait until the user's Home (as the fake Slack now shows it) satisfies predicate; returns its spec."""
    def current():
        view = slack.home(user)
        return view.spec if view is not None and predicate(view.spec) else None
    return slack.wait_for(current, timeout)


def text_of(view):
    return json.dumps(view["blocks"])


def buttons(view):
    found = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in view["blocks"] if b.get("accessory")]


def action_values(view, action_id):
    return [b["value"] for b in buttons(view) if b["action_id"] == action_id]


def finish_copies(client, template, count, state=S.DENIED, actor=SUPERVISOR):
    """Finished requests stored directly (quick), as a decided copy of a real one."""
    st = store(client)
    now = client.bot.service.ctx.now()
    ids = []
    for i in range(count):
        request_id = uuid.uuid4().hex
        copy = replace(template, id=request_id, state=state, conversation_id=str(uuid.uuid4()), message_ref=None,
                       acted_by=actor, acted_at=now + timedelta(seconds=i), created_at=now + timedelta(seconds=i),
                       updated_at=now + timedelta(seconds=i), version=1)
        st.add(copy, actor=actor)
        ids.append(request_id)
    return ids


# ---- what each viewer sees ------------------------------------------------------------------------

def test_approver_home_lists_what_they_may_decide_and_the_last_twenty_finished(sim, slack, bot):
    _, first = ask(sim, slack, bot, "Billing", agent="Alice")
    _, second = ask(sim, slack, bot, "Refunds", user=OTHER_AGENT, agent="Bruno")
    _, approved = ask(sim, slack, bot, "Loans", agent="Carla")
    bot.click("transfer_approve", approved, user=SUPERVISOR, channel=APPROVAL_CHANNEL)
    slack.wait_for(lambda: store(bot).get(approved).state is S.SUCCEEDED)
    template = store(bot).get(first)
    older = finish_copies(bot, template, 21)  # 21 denied: only the newest 20 may show, with the transfer older

    bot.home_opened(SUPERVISOR)

    view = home_of(slack, SUPERVISOR, lambda v: "Waiting for a decision (2)" in text_of(v))
    text = text_of(view)
    assert action_values(view, "transfer_approve") == action_values(view, "transfer_deny")
    assert set(action_values(view, "transfer_approve")) == {first, second}
    assert f"<@{REQUESTER}>" in text and f"<@{OTHER_AGENT}>" in text
    assert "\\u2192 Billing" in text and "\\u2192 Refunds" in text and "(Alice)" in text and "(Bruno)" in text
    call_id = store(bot).get(first).conversation_id
    assert call_id[:8] in text and "queue at request time: Sales-" in text
    assert re.search(r"asked \d+ s ago", text) and "expires in 1" in text  # age and time left (15 min TTL)
    history = text[text.index("Recently finished"):]
    assert history.count("\\u2022 ") == 20  # the last 20 finished, one line each
    assert history.count(":no_entry: Denied by") == 20 and older[0] not in history
    assert f"by <@{SUPERVISOR}>" in history and " UTC" in history
    assert "Transferred" not in history  # the 21 denials are newer than the transfer
    assert "transfer_open_modal" in [b["action_id"] for b in buttons(view)]


def test_approver_history_shows_outcome_who_when_and_correlation_id(sim, slack, bot):
    _, approved = ask(sim, slack, bot, "Loans", agent="Carla")
    bot.click("transfer_approve", approved, user=SUPERVISOR, channel=APPROVAL_CHANNEL)
    slack.wait_for(lambda: store(bot).get(approved).state is S.SUCCEEDED)

    bot.home_opened(SUPERVISOR)

    view = home_of(slack, SUPERVISOR)
    history = text_of(view)[text_of(view).index("Recently finished"):]
    correlation_id = transfers(sim)[0].correlation_id
    assert "Transferred: the customer is now waiting in Loans" in history.replace("*", "")
    assert f"by <@{SUPERVISOR}>" in history and " UTC" in history
    assert f"correlation id `{correlation_id}`" in history
    assert "Nothing is waiting for approval right now." in text_of(view)


def test_non_approver_home_shows_own_requests_with_cancel_usage_and_the_form_button(sim, slack, bot):
    _, mine = ask(sim, slack, bot, "Billing")
    _, denied = ask(sim, slack, bot, "Refunds")
    _, someone_elses = ask(sim, slack, bot, "Loans", user=OTHER_AGENT)
    bot.click("transfer_deny", denied, user=SUPERVISOR, channel=APPROVAL_CHANNEL)
    slack.wait_for(lambda: store(bot).get(denied).state is S.DENIED)

    bot.home_opened(REQUESTER)

    view = home_of(slack, REQUESTER)
    text = text_of(view)
    assert action_values(view, "transfer_cancel") == [mine]
    assert action_values(view, "transfer_approve") == [] and action_values(view, "transfer_deny") == []
    assert "Your open requests" in text and "Waiting for approval" in text and "*Billing*" in text
    recent = text[text.index("Your recent requests"):]
    assert "Denied by" in recent and "Refunds" in recent
    assert someone_elses not in text and "Loans" not in text and f"<@{OTHER_AGENT}>" not in text
    assert "/transfer &lt;conversation-id&gt; &lt;queue name&gt;" in text or "/transfer <conversation-id>" in text
    assert action_values(view, "transfer_open_modal") == ["open"]
    assert "Waiting for a decision" not in text


def test_cancel_from_home_withdraws_the_request_and_updates_the_approval_message(sim, slack, bot):
    _, request_id = ask(sim, slack, bot)
    bot.home_opened(REQUESTER)
    home_of(slack, REQUESTER, lambda v: request_id in action_values(v, "transfer_cancel"))

    bot.home_click("transfer_cancel", request_id, user=REQUESTER)

    update = slack.wait_api("chat.update")[0]
    assert update["channel"] == APPROVAL_CHANNEL and "Cancelled by the requester" in json.dumps(update["blocks"])
    view = home_of(slack, REQUESTER, lambda v: "Cancelled. Nothing was sent." in text_of(v))
    assert action_values(view, "transfer_cancel") == []
    assert transfers(sim) == []


# ---- decisions from Home -----------------------------------------------------------------------

def test_approve_from_home_transfers_once_updates_the_channel_and_answers_on_home(sim, slack, bot):
    call, request_id = ask(sim, slack, bot)
    bot.home_opened(SUPERVISOR)
    home_of(slack, SUPERVISOR, lambda v: request_id in action_values(v, "transfer_approve"))
    since = mark(slack)

    reply = bot.home_click("transfer_approve", request_id, user=SUPERVISOR)

    assert reply.status == 200
    update = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in json.dumps(u)])[-1]
    posted = approval_posts(slack)[0]
    message = slack.find_message(APPROVAL_CHANNEL, slack.api_calls("chat.update")[0]["ts"])
    assert update["channel"] == APPROVAL_CHANNEL and message.metadata["event_payload"]["request_id"] == request_id
    assert f"Approved by <@{SUPERVISOR}>" in json.dumps(update["blocks"]) and "actions" not in json.dumps(update)
    assert posted["metadata"]["event_payload"]["request_id"] == request_id
    view = home_of(slack, SUPERVISOR, lambda v: "Approved." in json.dumps(v["blocks"][1]))
    assert request_id not in action_values(view, "transfer_approve")
    thread = slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage") if m.get("thread_ts")])
    assert f"<@{REQUESTER}>" in thread[0]["text"] and "Transferred" in thread[0]["text"]
    posts = transfers(sim)
    assert len(posts) == 1 and call.agent_participant_id in posts[0].path
    assert [r for r in slack.received[since:] if r.kind == "response_url"] == []  # a Home click has none


def test_deny_from_home_sends_nothing_and_updates_the_channel(sim, slack, bot):
    _, request_id = ask(sim, slack, bot)

    bot.home_click("transfer_deny", request_id, user=SUPERVISOR)

    update = slack.wait_api("chat.update")[0]
    assert f"Denied by <@{SUPERVISOR}>" in json.dumps(update["blocks"])
    view = home_of(slack, SUPERVISOR, lambda v: "Denied." in json.dumps(v["blocks"][1]))
    assert f"<@{REQUESTER}> will be told" in json.dumps(view["blocks"][1])
    assert "Denied" in slack.wait_for(lambda: [m for m in slack.api_calls("chat.postMessage")
                                               if m.get("thread_ts")])[0]["text"]
    assert transfers(sim) == []


def test_home_clicks_get_the_same_authorisation_and_recheck(sim, slack, bot):
    call, request_id = ask(sim, slack, bot)

    bot.home_click("transfer_approve", request_id, user=OUTSIDER)
    bot.home_click("transfer_approve", request_id, user=REQUESTER)

    assert "only configured transfer approvers" in json.dumps(home_of(slack, OUTSIDER)["blocks"][1])
    assert "your own request" in json.dumps(home_of(slack, REQUESTER)["blocks"][1])
    assert store(bot).get(request_id).state is S.PENDING and slack.api_calls("chat.update") == []

    sim.end_call(call.id)
    bot.home_click("transfer_approve", request_id, user=SUPERVISOR)

    update = slack.wait_api("chat.update")[0]
    assert "the call changed before approval" in json.dumps(update["blocks"])
    assert "already ended" in json.dumps(update["blocks"])
    assert transfers(sim) == []


def test_one_click_in_home_and_one_in_the_channel_give_one_transfer(sim, slack, bot):
    _, request_id = ask(sim, slack, bot)
    ts = approval_posts(slack)[0]
    message_ts = slack.wait_for(lambda: store(bot).get(request_id).message_ref and
                                slack.timeline(APPROVAL_CHANNEL, SUPERVISOR))[0][0].ts
    go = threading.Barrier(2)

    def in_home():
        go.wait()
        return bot.home_click("transfer_approve", request_id, user=SUPERVISOR), None

    def in_channel():
        go.wait()
        return bot.click("transfer_approve", request_id, user=SUPERVISOR, channel=APPROVAL_CHANNEL,
                         message_ts=message_ts)

    with ThreadPoolExecutor(2) as pool:
        home_click, channel_click = pool.submit(in_home), pool.submit(in_channel)
        (home_reply, _), (channel_reply, key) = home_click.result(), channel_click.result()

    assert home_reply.status == 200 and channel_reply.status == 200
    slack.wait_for(lambda: store(bot).get(request_id).state is S.SUCCEEDED)
    channel_answer = slack.wait_responses(key)[0]["text"]
    home_answer = json.dumps(home_of(slack, SUPERVISOR, lambda v: "Approved" in json.dumps(v["blocks"][1]) or
                                     "already approved" in json.dumps(v["blocks"][1]))["blocks"][1])
    assert ("already approved" in channel_answer) != ("already approved" in home_answer)
    time.sleep(0.5)
    assert len(transfers(sim)) == 1 and len(sim.transfers) == 1
    updated = {u["ts"] for u in slack.api_calls("chat.update")}
    assert updated == {message_ts} and ts["channel"] == APPROVAL_CHANNEL


# ---- who is re-published, and how often --------------------------------------------------------------

def test_state_changes_republish_only_those_who_can_see_the_request_at_most_once_a_second(sim, slack, bot):
    for user in (SUPERVISOR, REQUESTER, OTHER_AGENT, OUTSIDER):
        bot.home_opened(user)
    for user in (SUPERVISOR, REQUESTER, OTHER_AGENT, OUTSIDER):
        home_of(slack, user)
    time.sleep(1.2)  # past every user's once-a-second window
    since = mark(slack)

    _, request_id = ask(sim, slack, bot)  # received → pending
    bot.home_click("transfer_approve", request_id, user=SUPERVISOR)  # approved → executing → accepted → succeeded
    slack.wait_for(lambda: store(bot).get(request_id).state is S.SUCCEEDED)
    home_of(slack, REQUESTER, lambda v: "Transferred" in text_of(v))
    home_of(slack, SUPERVISOR, lambda v: "Transferred" in text_of(v))
    time.sleep(1.5)  # anything still throttled has gone out
    notices = [json.dumps(sent_view(p)["blocks"][1]) for _, p in publishes(slack, SUPERVISOR, since)]
    assert any("Approved." in notice for notice in notices)  # the click's answer, on Home

    assert publishes(slack, OTHER_AGENT, since) == [] and publishes(slack, OUTSIDER, since) == []
    for user in (SUPERVISOR, REQUESTER):
        times = [at for at, _ in publishes(slack, user, since)]
        assert times, user
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Coalesced to once a second (what Slack receives jitters by the delivery pool's queueing);
        # unthrottled, the burst of state changes would arrive milliseconds apart.
        assert all(gap >= 0.5 for gap in gaps), (user, gaps)
        assert len(times) <= (times[-1] - times[0]) + 1.5, (user, gaps)
        assert len(times) <= 7, (user, len(times))  # 6 state changes + the click's notice, never more


def test_a_user_who_never_opened_home_is_not_published_to(sim, slack, bot):
    _, request_id = ask(sim, slack, bot)
    bot.home_click("transfer_deny", request_id, user=SUPERVISOR)
    slack.wait_for(lambda: store(bot).get(request_id).state is S.DENIED)
    time.sleep(1.5)

    assert [p["user_id"] for p in slack.api_calls("views.publish")] == [SUPERVISOR] * len(
        slack.api_calls("views.publish"))  # only the clicker (for the notice); the requester never opened Home


# ---- 200 waiting ---------------------------------------------------------------------------------------

def test_home_with_two_hundred_pending_requests_stays_within_100_blocks_and_pages(sim, slack, bot):
    _, first = ask(sim, slack, bot)
    template = store(bot).get(first)
    st = store(bot)
    now = bot.bot.service.ctx.now()
    for i in range(200):
        conversation_id = str(uuid.uuid4())
        st.add(replace(template, id=uuid.uuid4().hex, conversation_id=conversation_id, message_ref=None,
                       snapshot=replace(template.snapshot, conversation_id=conversation_id),
                       requester_id=f"U0REQ{i:05d}", created_at=now, updated_at=now,
                       expires_at=now + timedelta(minutes=10, seconds=i)), actor=f"U0REQ{i:05d}")

    bot.home_opened(SUPERVISOR)

    view = home_of(slack, SUPERVISOR, lambda v: "Waiting for a decision (201)" in text_of(v))
    assert len(view["blocks"]) <= 100
    assert "Showing 1\\u201320 of 201 waiting; and 181 more waiting" in text_of(view)
    decide = action_values(view, "transfer_approve")
    assert len(decide) == 20 and first not in decide  # soonest to expire first: the copies expire sooner
    assert action_values(view, "home_page_next") == ["1"] and action_values(view, "home_page_prev") == []
    assert "Recently finished" in text_of(view)

    bot.home_click("home_page_next", "1", user=SUPERVISOR)

    second = home_of(slack, SUPERVISOR, lambda v: "Showing 21\\u201340 of 201" in text_of(v))
    assert len(second["blocks"]) <= 100
    assert not set(action_values(second, "transfer_approve")) & set(decide)
    assert action_values(second, "home_page_prev") == ["0"] and action_values(second, "home_page_next") == ["2"]
    for call in slack.api_calls("views.publish"):
        assert len(sent_view(call)["blocks"]) <= 100
