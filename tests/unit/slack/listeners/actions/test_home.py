"""Home buttons: open the form; page through pending requests."""

from __future__ import annotations

import pytest

from bot.slack.listeners.actions.home import handle_open_modal, handle_page
from tests.unit.service.conftest import APPROVER
from tests.unit.slack.conftest import Harness


def test_open_form_from_home(harness: Harness):
    handle_open_modal(harness.recorder.ack, {"trigger_id": "trig-9", "user": {"id": APPROVER}}, harness.deps)
    assert harness.recorder.kinds() == ["ack", "after_ack", "open_view"]
    assert harness.delivery.opened[0][1]["callback_id"] == "transfer_modal"


@pytest.mark.parametrize(("value", "page"), [("1", 1), ("0", 0), ("-3", 0), ("x", 0), ("999999", 1000)])
def test_paging(harness: Harness, value, page):
    body = {"user": {"id": APPROVER}, "actions": [{"action_id": "home_page_next", "value": value}],
            "container": {"type": "view"}}
    handle_page(harness.recorder.ack, body, harness.deps)
    assert harness.recorder.kinds()[0] == "ack"
    assert harness.home.published == [(APPROVER, {"flash": None, "page": page})]
