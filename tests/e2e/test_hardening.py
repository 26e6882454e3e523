"""Issue 8 (outside review), end to end: signed HTTP into the bot, the simulator behind it, FakeSlack
in front. Each test drives one finding and checks both what Genesys received and what Slack showed."""

from __future__ import annotations

import json
import logging
import time
import uuid
from urllib.parse import quote

import pytest

from bot.playground.slack_api import FakeSlack
from tests.kit.slack_client import APP, TEAM, SlackClientSide

REPLACE = r"/participants/[^/]+/replace/queue$"
QUEUES = r"/api/v2/routing/queues$"
APPROVER = "U0LEAD001"
REQUESTER = "U0AGENT01"
NEW_SECRET = "0123456789abcdef0123456789abcdef"
OLD_SECRET = "fedcba9876543210fedcba9876543210"


def replaces(sim) -> list:
    return sim.requests_matching("POST", REPLACE)


def text_of(response: dict) -> str:
    return response.get("text", "") + json.dumps(response.get("blocks") or [])


def eventually(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def ready(client: SlackClientSide) -> None:
    """Readiness includes auth.test: from then on the bot knows its own team and app ids."""
    eventually(lambda: client.get("/readyz").status == 200, 60, "/readyz")


def result_of(slack: FakeSlack, key: str, word: str = "Transferred") -> dict:
    return slack.wait_for(lambda: [r for r in slack.responses(key) if word in text_of(r)], timeout=30)[-1]


# ---- Genesys contract pitfalls: queues ------------------------------------------------------------


@pytest.fixture
def big_org(sim, make_bot):
    """252 queues (three catalog pages); the bot has paged its catalog once at start."""
    for i in range(250):
        sim.add_queue(f"Team {i:03d}")
    target = sim.add_queue("Support_Tier2")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Billing"))
    client = make_bot()
    eventually(lambda: any(r.query.get("pageNumber") == ["3"] and r.status == 200
                           for r in sim.requests_matching("GET", QUEUES)), 60, "the catalog paged")
    sim.reset_requests()
    return client, call, target


def queue_requests(sim) -> list:
    return sim.requests_matching("GET", r"/api/v2/routing/queues")


def test_a_typed_star_never_reaches_the_name_filter_and_lists_nothing(sim, slack, big_org):
    client, call, _ = big_org

    _, key = client.command(f"{call.id} *")

    message = slack.wait_responses(key, timeout=30)[0]
    text = text_of(message)
    assert message["response_type"] == "ephemeral"
    assert "couldn't find a queue named" in text
    assert sum(f"Team {i:03d}" in text for i in range(250)) <= 3  # not the whole org
    assert all("*" not in "".join(r.query.get("name", [])) for r in queue_requests(sim))
    assert len(queue_requests(sim)) <= 1
    assert replaces(sim) == []


def test_a_typo_costs_at_most_two_queue_requests_and_still_suggests(sim, slack, big_org):
    client, call, target = big_org

    _, key = client.command(f"{call.id} Suport_Tier2")
    _, key2 = client.command(f"{call.id} Tema 007")

    assert "Did you mean: Support_Tier2?" in text_of(slack.wait_responses(key, timeout=30)[0])
    assert "Team 007" in text_of(slack.wait_responses(key2, timeout=30)[0])
    assert len(queue_requests(sim)) <= 4  # two typos, at most two requests each; no listing of the org
    assert not any(r.query.get("pageNumber") not in (None, ["1"]) for r in queue_requests(sim))
    assert replaces(sim) == []

    _, key3 = client.command(f"{call.id} support tier 2")  # a loose spelling of a real name still works
    assert "Transferred" in text_of(result_of(slack, key3))
    assert replaces(sim)[0].json == {"queueId": target.id}


def test_same_named_queues_are_chosen_by_division_or_id(sim, slack, client):
    home = sim.add_queue("Billing", division="Home")
    emea = sim.add_queue("Billing", division="EMEA")
    calls = [sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales {i}")) for i in range(4)]
    division_id = emea.division_id

    _, plain = client.command(f"{calls[0].id} Billing")
    _, by_name = client.command(f"{calls[1].id} Billing (EMEA)")
    _, by_division_id = client.command(f"{calls[2].id} billing ({division_id})")
    _, by_id = client.command(f"{calls[3].id} {home.id}")

    ambiguous = text_of(slack.wait_responses(plain, timeout=30)[0])
    assert "matches 2 queues" in ambiguous and "Billing (Home)" in ambiguous and "Billing (EMEA)" in ambiguous
    for key in (by_name, by_division_id, by_id):
        result_of(slack, key)
    sent = {r.path.split("/")[4]: r.json["queueId"] for r in replaces(sim)}
    assert sent == {calls[1].id: emea.id, calls[2].id: emea.id, calls[3].id: home.id}


# ---- Genesys contract pitfalls: legs, states, permissions ------------------------------------------


@pytest.mark.parametrize("scenario", ["monitored", "coached", "barged"])
def test_a_supervised_call_is_transferable_and_the_supervisor_leg_is_left_alone(sim, slack, client, scenario):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario=scenario, queue=sim.add_queue("Sales"))
    legs = sim.call_json(call.id)["participants"]
    supervisor = [p["id"] for p in legs if p.get("monitoredParticipantId") or p.get("coachedParticipantId")
                  or p.get("bargedParticipantId")]
    assert supervisor, "the scenario has a supervisor leg"

    _, key = client.command(f"{call.id} Billing")

    assert "Transferred" in text_of(result_of(slack, key))
    [post] = replaces(sim)
    assert f"/participants/{call.agent_participant_id}/" in post.path
    assert not any(f"/participants/{leg}/" in post.path for leg in supervisor)
    assert post.json == {"queueId": queue.id}


def test_an_unknown_leg_state_is_refused_as_unknown_not_as_ended(sim, slack, client):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="unknown_state", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{call.id} Billing")

    text = text_of(slack.wait_responses(key, timeout=30)[0])
    assert "doesn't know" in text and "outdated_sdk_version" in text
    assert "ended" not in text and "hung up" not in text
    assert replaces(sim) == []


def test_a_403_on_the_transfer_names_both_permissions_that_allow_it(sim, slack, client):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    sim.inject(method="POST", path=REPLACE, status=403, code="missing.any.permissions", message="nope")

    _, key = client.command(f"{call.id} Billing")

    text = text_of(result_of(slack, key, "permission"))
    assert "conversation:communication:blindTransferQueue" in text
    assert "conversation:communication:blindTransfer`" in text or "conversation:communication:blindTransfer " in text
    assert replaces(sim)[0].correlation_id in text
    assert len(replaces(sim)) == 1  # a 403 is definite: not resent


def test_a_403_reading_a_chat_names_the_view_permission(sim, slack, client):
    sim.add_queue("Billing")
    chat = sim.add_conversation("chat", "connected", agent=sim.add_user("Bo", "bo@example.com"),
                                queue=sim.add_queue("Sales"))
    sim.inject(method="GET", path=rf"/api/v2/conversations/{chat.id}$", status=403, code="missing.any.permissions",
               message="nope", times=None)

    _, key = client.command(f"{chat.id} Billing")

    text = text_of(slack.wait_responses(key, timeout=30)[0])
    assert "conversation:communication:view" in text
    assert replaces(sim) == []


# ---- Slack pitfalls: who may act here, where answers go, which secrets sign -----------------------


def _foreign_command(client: SlackClientSide, call_id: str, *, team: str = TEAM, app: str = APP) -> tuple[str, str]:
    body, key = client.command_body(f"{call_id} Billing")
    return body.replace(f"team_id={TEAM}", f"team_id={team}").replace(f"api_app_id={APP}", f"api_app_id={app}"), key


@pytest.mark.parametrize(("team", "app"), [("T0OTHER", APP), (TEAM, "A0OTHER")])
def test_a_payload_signed_for_another_workspace_or_app_is_refused(sim, slack, client, team, app):
    sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    ready(client)
    body, key = _foreign_command(client, call.id, team=team, app=app)
    click = {"type": "block_actions", "user": {"id": APPROVER, "team_id": team}, "team": {"id": team},
             "api_app_id": app, "actions": [{"action_id": "transfer_approve", "value": "0" * 32}],
             "response_url": slack.response_url("click")}

    command = client.post(body)
    action = client.post(f"payload={quote(json.dumps(click))}")

    assert (command.status, action.status) == (403, 403)
    ours, ok_key = client.command(f"{call.id} Billing")  # the same request for this app goes through
    assert ours.status == 200 and "Transferred" in text_of(result_of(slack, ok_key))
    assert slack.responses(key) == [] and slack.responses("click") == []
    assert len(replaces(sim)) == 1


def test_a_response_url_pointing_elsewhere_is_never_posted_to(sim, slack, make_bot):
    elsewhere = FakeSlack().start()  # a listener that is not Slack: another port on the same host
    try:
        sim.add_queue("Billing")
        call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
        client = make_bot(TRANSFER_APPROVERS=APPROVER)
        body, _ = client.command_body(f"{call.id} Billing", user=REQUESTER)
        body = body.replace(quote(slack.url, safe=""), quote(elsewhere.url, safe=""))
        assert quote(elsewhere.url, safe="") in body

        assert client.post(body).status == 200
        post = slack.wait_api("chat.postMessage", timeout=30)[0]  # the approval message still goes out
        request_id = post["blocks"][2]["elements"][0]["value"]
        notice = slack.wait_api("chat.postEphemeral", timeout=30)[0]  # the requester is told privately, not via the URL
        assert notice["user"] == REQUESTER
        click = {"type": "block_actions", "user": {"id": APPROVER, "team_id": TEAM},
                 "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C0FLOOR01",
                               "is_ephemeral": False},
                 "channel": {"id": "C0FLOOR01"}, "response_url": elsewhere.response_url("click"),
                 "actions": [{"type": "button", "action_id": "transfer_approve", "value": request_id,
                              "block_id": f"approval:{request_id}", "action_ts": str(time.time())}]}
        assert client.interaction(click).status == 200
        slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in text_of(u)], timeout=30)
    finally:
        elsewhere.stop()
    assert [r for r in elsewhere.received] == []
    assert len(replaces(sim)) == 1


def test_the_previous_signing_secret_works_during_rotation_and_not_after(sim, slack, make_bot):
    sim.add_queue("Billing")
    calls = [sim.add_call(scenario="connected", queue=sim.add_queue(f"Sales {i}")) for i in range(3)]
    rotating = make_bot(SLACK_SIGNING_SECRET=NEW_SECRET, SLACK_SIGNING_SECRET_PREVIOUS=OLD_SECRET)
    old_signer = SlackClientSide(slack, rotating.host, rotating.port, secret=OLD_SECRET)
    new_signer = SlackClientSide(slack, rotating.host, rotating.port, secret=NEW_SECRET)

    by_old, old_key = old_signer.command(f"{calls[0].id} Billing")
    by_new, new_key = new_signer.command(f"{calls[1].id} Billing")

    assert (by_old.status, by_new.status) == (200, 200)
    result_of(slack, old_key)
    result_of(slack, new_key)

    rotated = make_bot(SLACK_SIGNING_SECRET=NEW_SECRET)  # the overlap is over: PREVIOUS removed
    old_after = SlackClientSide(slack, rotated.host, rotated.port, secret=OLD_SECRET)
    new_after = SlackClientSide(slack, rotated.host, rotated.port, secret=NEW_SECRET)

    refused, refused_key = old_after.command(f"{calls[2].id} Billing")
    accepted, accepted_key = new_after.command(f"{calls[2].id} Billing")

    assert (refused.status, accepted.status) == (401, 200)
    result_of(slack, accepted_key)
    assert slack.responses(refused_key) == []
    assert sorted(r.path.split("/")[4] for r in replaces(sim)) == sorted(c.id for c in calls)


def test_a_failed_signature_logs_who_but_never_the_body(sim, slack, client, caplog):
    caplog.set_level(logging.DEBUG)
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Sales"))
    secret_words = f"queue-{uuid.uuid4().hex}"
    body, key = client.command_body(f"{call.id} {secret_words}", user=REQUESTER)

    reply = client.post(body, signature="v0=" + "0" * 64)

    assert reply.status == 401
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert f"Slack signature check failed (team {TEAM}, user {REQUESTER})" in logged
    for leaked in (secret_words, key, "response_url", "trigger_id", call.id):
        assert leaked not in logged
    assert sim.requests_matching(None, r"/api/v2/conversations") == []


# ---- the approval message after the fact, and the audit of refused clicks ------------------------


def test_the_finished_approval_message_labels_the_queue_at_request_time_and_refused_clicks_are_audited(
        sim, slack, make_bot):
    queue = sim.add_queue("Billing")
    call = sim.add_call(scenario="connected", queue=sim.add_queue("Support_Tier1"), agent_name="Ann")
    client = make_bot(TRANSFER_APPROVERS=APPROVER)
    client.command(f"{call.id} Billing", user=REQUESTER)
    post = slack.wait_api("chat.postMessage", timeout=30)[0]
    request_id = post["blocks"][2]["elements"][0]["value"]

    _, outsider = client.click("transfer_approve", request_id, user="U0RANDOM1")
    _, own = client.click("transfer_approve", request_id, user=REQUESTER)
    client.click("transfer_approve", request_id, user=APPROVER)

    slack.wait_responses(outsider, timeout=30)
    slack.wait_responses(own, timeout=30)
    update = slack.wait_for(lambda: [u for u in slack.api_calls("chat.update") if "Transferred" in text_of(u)],
                            timeout=30)[-1]
    shown = text_of(update)
    assert "Queue at request time" in shown and "Support_Tier1" in shown
    assert "Current queue" not in shown
    assert replaces(sim)[0].json == {"queueId": queue.id}
    events = [e for e in client.bot.runtime.store.audit_since(client.bot.service.get(request_id).created_at)
              if e.request_id == request_id]
    refused = [(e.actor, e.reason, e.to_state, e.target_name) for e in events if e.kind.value == "click_refused"]
    assert refused == [("U0RANDOM1", "not_approver", "pending", "Billing"),
                       (REQUESTER, "self_approval", "pending", "Billing")]


def test_a_message_conversation_is_moved_like_a_call_not_refused_twice_over(sim, slack, client):
    queue = sim.add_queue("Billing")
    chat = sim.add_call(scenario="message", queue=sim.add_queue("Sales"))

    _, key = client.command(f"{chat.id} Billing")

    text = text_of(result_of(slack, key))
    assert "not a voice call" not in text and "I only transfer calls" not in text
    assert replaces(sim)[0].json == {"queueId": queue.id}
