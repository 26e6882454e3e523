"""What Slack listeners need, in one object, so each listener stays a small function.

Listeners parse and ack; everything slow goes to `run_later` (the transfer pool), what must
follow the ack at once (views.open, small bookkeeping) to `after_ack`, and every message to
Slack goes through `delivery` (its own pool, retries, deadlines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.domain.request import TransferRequest
from bot.service.queues import QueueDirectory
from bot.service.transfers import TransferService


class Delivery(Protocol):
    """Sends to Slack off the listener and transfer threads, with bounded retries."""

    def respond(self, response_url: str, body: dict[str, Any], *, request_id: str | None = None) -> None:
        """POST to a response_url (validated host; at most Slack's 5 uses are counted elsewhere)."""
        ...

    def tell_user(
        self,
        user: str,
        body: dict[str, Any],
        *,
        response_url: str | None = None,
        channel: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """A private message by the first route that works: response_url, ephemeral in channel, DM."""
        ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        """views.open, synchronously (trigger_ids expire after 3 s). False when Slack refused."""
        ...

    def push_view(self, trigger_id: str, view: dict[str, Any]) -> bool: ...


class HomePublisher(Protocol):
    def publish(self, user: str, *, flash: str | None = None, page: int = 0) -> None:
        """Re-render and views.publish this user's Home tab (throttled to once a second per user).

        `page`: which page of pending requests an approver sees (Next/Previous on the Home tab).
        """
        ...


class ResponseUrls(Protocol):
    def remember_response_url(self, request_id: str, url: str, expires_at: datetime) -> None: ...

    def home_opened(self, user_id: str, at: datetime) -> None: ...


class Members(Protocol):
    def is_member(self, user_id: str, ids) -> bool: ...


@dataclass
class SlackDeps:
    service: TransferService
    queues: QueueDirectory
    run_later: Callable[..., object]  # hands fn(*args) to the transfer pool once no ack is in flight
    after_ack: Callable[..., object]
    """Runs fn(*args) on Slack's after-ack pool at once: Bolt answers Slack only when the listener
    returns (process_before_response), so nothing slow may run in the listener after its ack."""
    delivery: Delivery
    state: ResponseUrls
    home: HomePublisher
    people: Members
    is_approver: Callable[[str], bool]
    """True if the user may approve anything at all (Home shows them the approver view)."""
    may_see_number: Callable[[str, TransferRequest], bool]
    """True if this viewer may see the request's outside number unmasked (approvers of it)."""
    now: Callable[[], datetime]
    response_url_ok: Callable[[str], bool]
    """Only Slack's hooks host (or SLACK_API_URL's, for GovSlack and tests) may receive replies."""
