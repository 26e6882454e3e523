"""Slack side of the Notifier port: approval messages live in a channel and are edited in place.

chat.update with channel+ts is used (not response_url), because response_url stops working
after 30 minutes or 5 uses and approvals can wait longer than that.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.model import TransferRequest
from bot.service.ports import Ending
from bot.slack import blocks

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, client: WebClient, *, approval_channel: str | None = None) -> None:
        self._client = client
        self._approval_channel = approval_channel

    def post_approval_request(self, request: TransferRequest) -> tuple[str, str]:
        channel = self._approval_channel or request.channel_id
        if not channel:
            raise RuntimeError("no approval channel: set TRANSFER_APPROVAL_CHANNEL")
        try:
            response = self._client.chat_postMessage(channel=channel, **blocks.approval_request(request))
        except SlackApiError as error:
            raise RuntimeError(f"Slack answered {error.response.get('error')} for channel {channel}") from error
        return response["channel"], response["ts"]

    def request_ended(self, ending: Ending) -> None:
        request = ending.request
        if not (request.message_channel and request.message_ts):
            log.warning("request %s has no approval message to update", request.id)
            return
        self._client.chat_update(
            channel=request.message_channel, ts=request.message_ts, **blocks.approval_ended(ending)
        )
        self._client.chat_postMessage(
            channel=request.message_channel,
            thread_ts=request.message_ts,
            text=blocks.requester_update(ending),
        )
