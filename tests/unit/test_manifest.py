"""manifest.yml declares what the code listens for and needs: a mismatch only shows once installed in Slack."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.listeners.shortcuts.transfer import FROM_MESSAGE, GLOBAL

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())


def test_the_slash_command_escapes_mentions_so_that_at_agent_arrives_as_a_user_id():
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/transfer" and command["should_escape"] is True


def test_the_shortcuts_have_the_callback_ids_the_listeners_register():
    shortcuts = {s["callback_id"]: s["type"] for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == {GLOBAL: "global", FROM_MESSAGE: "message"}


def test_home_is_enabled_and_its_event_subscribed():
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True


def test_the_scopes_cover_mentions_emails_groups_and_the_lost_post_lookup():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read", "users:read.email", "usergroups:read",
            "channels:history", "groups:history", "im:history"} <= scopes
