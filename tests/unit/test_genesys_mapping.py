"""SDK models → domain: the choices made when Genesys' answer is ambiguous (no SDK needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS

import pytest

from bot.domain.conversation import Media, QueueHealth
from bot.genesys import mapping

T = datetime(2026, 1, 1, tzinfo=UTC)


def _participant(pid: str, purpose: str, **media: list[NS]) -> NS:
    fields = dict.fromkeys(
        ("start_time", "end_time", "connected_time", "name", "user_id", "queue_id", "address",
         "monitored_participant_id", "coached_participant_id", "barged_participant_id"),
    )  # fmt: skip
    return NS(id=pid, purpose=purpose, **fields, **media)


def _session(state: str, **kw: object) -> NS:
    return NS(state=state, connected_time=kw.get("connected"), disconnected_time=kw.get("ended"), held=False)


def test_a_callback_leg_is_live_on_the_call_it_placed() -> None:
    agent = _participant(
        "a", "agent", callbacks=[_session("disconnected", ended=T)], calls=[_session("connected", connected=T)]
    )
    customer = _participant("c", "customer", calls=[_session("connected")])
    conv = mapping.movable_conversation(NS(id="x", participants=[agent, customer], recent_transfers=None))
    assert conv.media is Media.CALLBACK
    legs = {p.id: p for p in conv.participants}
    assert legs["a"].state == "connected" and legs["a"].end_time is None and legs["a"].connected_time == T
    assert legs["c"].is_live


def test_legacy_chats_are_chat_and_legs_without_sessions_are_left_out() -> None:
    agent = _participant("a", "agent", chats=[_session("connected")])
    ivr = _participant("i", "ivr")  # no session of this media
    conv = mapping.movable_conversation(NS(id="x", participants=[agent, ivr], recent_transfers=[]))
    assert conv.media is Media.CHAT and [p.id for p in conv.participants] == ["a"]


def test_no_media_at_all_and_a_conversation_without_id() -> None:
    assert mapping.media_of(NS(participants=[_participant("a", "agent")])) is None
    with pytest.raises(mapping.ShapeError):
        mapping.movable_conversation(NS(id=None, participants=[], recent_transfers=None))


def _datum(metric: str, count: int, qualifier: str | None = None) -> NS:
    return NS(metric=metric, qualifier=qualifier, stats=NS(count=count))


def test_queue_health_counts() -> None:
    response = NS(
        results=[
            NS(
                group={"queueId": "q1"},
                data=[_datum("oOnQueueUsers", 2, "IDLE"), _datum("oOnQueueUsers", 5, "INTERACTING")],
            ),
            NS(group={"queueId": "q1", "mediaType": "voice"}, data=[_datum("oWaiting", 3)]),
            NS(group={"queueId": "q1", "mediaType": "message"}, data=[_datum("oWaiting", 1)]),
            # Only per-media user counts for q2: the same people, so the largest, not the sum.
            NS(group={"queueId": "q2", "mediaType": "voice"}, data=[_datum("oOnQueueUsers", 4, "IDLE")]),
            NS(group={"queueId": "q2", "mediaType": "email"}, data=[_datum("oOnQueueUsers", 4, "IDLE")]),
            NS(group={"queueId": "other"}, data=[_datum("oWaiting", 9)]),
        ]
    )
    health = mapping.queue_health(response, ["q1", "q2", "q3"])
    assert health == {
        "q1": QueueHealth(available=2, waiting=4),
        "q2": QueueHealth(available=4, waiting=0),
        "q3": QueueHealth(),  # Genesys said nothing about it
    }


def test_first_user_prefers_the_exact_email() -> None:
    def user(uid: str, email: str) -> NS:
        return NS(id=uid, name=uid, email=email, state="active", station=None)

    response = NS(results=[user("1", "bob.smith@example.com"), user("2", "Bob@Example.com")])
    assert mapping.first_user(response, "bob@example.com").id == "2"
    assert mapping.first_user(NS(results=None), "bob@example.com") is None
    assert mapping.user(user("3", "x@y.z")).has_station is None  # station not returned: unknown


def test_live_interactions_keep_this_users_interacting_conversations_once() -> None:
    def entity(cid: str, metric: str = "oInteracting", user: str | None = "u", media: str = "voice") -> NS:
        return NS(conversation_id=cid, metric=metric, user_id=user, media_type=media, queue_id="q", activity_date=T)

    response = NS(results=[
        NS(entities=[entity("c1"), entity("c1"), entity("c2", media="email"), entity("c3", metric="oAlerting")]),
        NS(entities=[entity("c4", user="someone else"), entity("c5", media="cobrowse")]),
    ])  # fmt: skip
    found = mapping.live_interactions(response, "u")
    assert [(i.conversation_id, i.media) for i in found] == [("c1", Media.CALL), ("c2", Media.EMAIL), ("c5", None)]


def test_estimated_wait() -> None:
    assert mapping.estimated_wait(NS(results=[NS(estimated_wait_time_seconds=30)])) == 30.0
    assert mapping.estimated_wait(NS(results=[NS(estimated_wait_time_seconds=None)])) is None
    assert mapping.estimated_wait(NS(results=[])) is None
