"""Escaping and safe truncation: nobody is pinged by a queue name, no entity or mention is split."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.service.context import SYSTEM
from bot.slack.text import (
    SYSTEM_ACTOR,
    approx,
    channel_link,
    clip,
    clock,
    cut,
    duration,
    esc,
    escape,
    mention,
    moment,
    short_id,
)

_ENTITY_OR_TAG = re.compile(r"&(amp|lt|gt);|<[^<>]*>")


def no_broken_markup(text: str) -> bool:
    """After removing whole entities and whole <…> tags, no `&…` fragment or stray `<` is left."""
    rest = _ENTITY_OR_TAG.sub("", text)
    return "<" not in rest and ">" not in rest and not re.search(r"&(a|am|amp|l|lt|g|gt)?$", rest)


def test_escape_only_the_three_control_characters():
    assert escape("<!channel> & friends > \"quotes\" 'x'") == "&lt;!channel&gt; &amp; friends &gt; \"quotes\" 'x'"


def test_escaped_text_never_contains_a_special_mention():
    for attack in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>", "<@U123>", "<#C123>"):
        assert "<" not in escape(attack)


@pytest.mark.parametrize("limit", [1, 2, 5, 75, 150, 3000])
def test_a_long_name_with_ampersands_is_cut_before_escaping(limit):
    name = "A&B <x> " * 500  # 4,000 characters, escaped much longer
    out = esc(name, limit)
    assert len(out) <= limit
    assert no_broken_markup(out)
    assert out.endswith("…")


def test_esc_leaves_short_text_whole():
    assert esc("Support & Billing", 3000) == "Support &amp; Billing"


def test_clip_never_splits_a_mention_or_an_entity():
    text = "x" * 2990 + " <@U0SUPER01> &amp; more"
    for limit in range(2985, 3010):
        out = clip(text, limit)
        assert len(out) <= limit and no_broken_markup(out), (limit, out[-20:])


def test_clip_keeps_text_that_fits():
    assert clip("<@U1AB> hi", 3000) == "<@U1AB> hi"


def test_cut_is_for_plain_text():
    assert cut("Support Tier 2", 75) == "Support Tier 2"
    assert cut("x" * 100, 75) == "x" * 74 + "…"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("U0SUPER01", "<@U0SUPER01>"),
        ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
        ("system", "the bot"),
        ("cli:alice", "operator alice"),
        ("cli:<!channel>", "operator &lt;!channel&gt;"),
        ("u-lowercase", "u-lowercase"),
        ("<!here>", "&lt;!here&gt;"),
        ("U1", "U1"),
        (None, "someone"),
    ],
)
def test_mentions_only_for_real_user_ids(actor, expected):
    assert mention(actor) == expected


def test_system_actor_matches_the_service():
    assert SYSTEM_ACTOR == SYSTEM


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("C0APPROVALS", "<#C0APPROVALS>"), ("G0PRIVATE", "<#G0PRIVATE>"), ("D0DM", "a direct message"),
     (None, "a direct message"), ("", "a direct message"), ("C<!here>", "a direct message")],
)
def test_channel_links_never_render_an_empty_link(channel, expected):
    assert channel_link(channel) == expected


def test_short_ids_and_times():
    assert short_id("3f1c2a4e-9b7d-4c1e-8f00-1234567890ab") == "3f1c2a4e"
    assert short_id(None) == "?"
    assert clock(datetime(2026, 11, 28, 10, 2, 59, tzinfo=UTC)) == "10:02 UTC"
    assert clock(datetime(2026, 11, 28, 11, 2, tzinfo=timezone(timedelta(hours=1)))) == "10:02 UTC"
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert moment(datetime(2026, 11, 27, 10, 2, tzinfo=UTC), now) == "27 Nov 10:02 UTC"
    assert moment(datetime(2026, 11, 28, 10, 2, tzinfo=UTC), now) == "10:02 UTC"


@pytest.mark.parametrize(
    ("seconds", "exact", "rough"),
    [(0, "0 s", "~0 s"), (45, "45 s", "~45 s"), (250, "4 min 10 s", "~4 min"), (3725, "1 h 02 min", "~1 h 02 min"),
     (-5, "0 s", "~0 s")],
)
def test_durations(seconds, exact, rough):
    assert duration(seconds) == exact == duration(timedelta(seconds=seconds))
    assert approx(seconds) == rough
