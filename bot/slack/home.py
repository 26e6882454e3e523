"""The App Home tab: rendered per viewer, re-published when a request they can see changes.

Re-publishing is limited to the people a change concerns (the requester, and approvers of that
request who have opened Home recently) and to once a second per user: bursts coalesce into
one publish with the latest state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.request import TransferRequest
from bot.ports.store import RequestStore
from bot.slack.delivery import SlackDelivery
from bot.slack.render import home_view

log = logging.getLogger(__name__)
MIN_INTERVAL = 1.0
VIEWER_WINDOW = timedelta(days=7)


class SlackHome:
    def __init__(
        self,
        *,
        store: RequestStore,
        state,
        delivery: SlackDelivery,
        is_member: Callable[[str, object], bool],
        is_approver: Callable[[str], bool],
        now: Callable[[], datetime],
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self.store = store
        self.state = state
        self.delivery = delivery
        self.is_member = is_member
        self.is_approver = is_approver
        self.now = now
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._scheduled: dict[str, tuple[str | None, int]] = {}
        self._pages: dict[str, int] = {}

    def publish(self, user: str, *, flash: str | None = None, page: int | None = None) -> None:
        """Publish soon: at once if this user's Home wasn't published in the last second."""
        with self._lock:
            if page is not None:
                self._pages[user] = max(0, page)
            if user in self._scheduled:
                previous_flash, _ = self._scheduled[user]
                self._scheduled[user] = (flash or previous_flash, self._pages.get(user, 0))
                return
            self._scheduled[user] = (flash, self._pages.get(user, 0))
            wait = max(0.0, self._last.get(user, 0.0) + self.min_interval - time.monotonic())
        timer = threading.Timer(wait, self._publish_now, args=(user,))
        timer.daemon = True
        timer.start()

    def refresh_for(self, request: TransferRequest) -> None:
        """Re-publish the Homes that show this request."""
        users = {request.requester_id}
        try:
            viewers = self.state.home_viewers(self.now() - VIEWER_WINDOW)
        except Exception as error:
            log.info("home viewers unavailable: %s", error)
            viewers = set()
        users |= {v for v in viewers if v != request.requester_id and self.is_member(v, request.approvers)}
        for user in users & (viewers | {request.requester_id}):
            if user in viewers:
                self.publish(user)

    def _publish_now(self, user: str) -> None:
        with self._lock:
            flash, page = self._scheduled.pop(user, (None, 0))
            self._last[user] = time.monotonic()
        try:
            view = self.render(user, flash=flash, page=page)
        except Exception:
            log.exception("rendering the Home tab for %s failed", user)
            return
        self.delivery.submit(self.delivery.publish_view, user, view)

    def render(self, user: str, *, flash: str | None = None, page: int = 0) -> dict:
        approver = self.is_approver(user)
        pending: list[TransferRequest] = []
        recent: list[TransferRequest] = []
        if approver:
            pending = [r for r in self.store.pending(500)
                       if r.requester_id != user and self.is_member(user, r.approvers)]
            recent = self.store.recent_finished(20)
        mine = self.store.for_requester(user, 20)
        return home_view(
            user, approver=approver, pending=pending, recent=recent, mine=mine,
            show_number=lambda r: self.is_member(user, r.approvers), now=self.now(), flash=flash, page=page,
        )
