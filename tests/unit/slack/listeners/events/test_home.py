"""Opening the Home tab notes the visit and publishes it; other tabs are left alone."""

from __future__ import annotations

from bot.slack.listeners.events.home import handle_home_opened
from tests.unit.service.conftest import APPROVER
from tests.unit.slack.conftest import Harness


def test_home_tab_is_published(harness: Harness):
    handle_home_opened({"type": "app_home_opened", "user": APPROVER, "tab": "home"}, harness.deps)
    assert harness.recorder.kinds() == ["after_ack"]  # Bolt acks the event when the listener returns
    assert harness.state.homes == [(APPROVER, harness.world.clock.now())]
    assert harness.home.published == [(APPROVER, {"flash": None, "page": 0})]


def test_messages_tab_is_ignored(harness: Harness):
    handle_home_opened({"type": "app_home_opened", "user": APPROVER, "tab": "messages"}, harness.deps)
    assert harness.state.homes == [] and harness.home.published == []
