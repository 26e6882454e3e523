"""Pure renderers: requests in, Slack message and view bodies out. No I/O, no clock reads.

The reconciler (keeping each request's messages in step with its state), the Home publisher
and the listeners call these; every body respects Block Kit's limits by construction.
"""

from __future__ import annotations

from bot.slack.render.approval import APPROVE, DENY, approval_message, break_glass_notice
from bot.slack.render.home import OPEN_MODAL, PAGE_NEXT, PAGE_PREV, home_view
from bot.slack.render.modal import (
    AGENT,
    CALL,
    CALLBACK_ID,
    CHANNEL,
    QUEUE,
    ModalInput,
    conversation_id_in,
    queue_options,
    read_modal,
    transfer_modal,
)
from bot.slack.render.notices import CANCEL, PICK_CALL, click_reply, requester_notice, thread_reply
from bot.slack.render.result import result_message

__all__ = [
    "AGENT", "APPROVE", "CALL", "CALLBACK_ID", "CANCEL", "CHANNEL", "DENY", "OPEN_MODAL", "PAGE_NEXT",
    "PAGE_PREV", "PICK_CALL", "QUEUE", "ModalInput", "approval_message", "break_glass_notice", "click_reply",
    "conversation_id_in", "home_view", "queue_options", "read_modal", "requester_notice", "result_message",
    "thread_reply", "transfer_modal",
]
