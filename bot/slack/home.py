"""The App Home tab: rendered per viewer, re-published when a request they can see changes.

Re-publishing is limited to the people a change concerns (the requester, and approvers of that
request who have opened Home recently) and to once a second per user: bursts coalesce into
one publish with the latest state. A publish Slack still refuses after delivery's bounded retries
is published again a little later (a few times, then logged with the request id and dropped).
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
MAX_FAILURES = 4  # publishes in a row that Slack refused (each already retried) before giving up
RETRY_AFTER = 2.0  # seconds, times the failures so far


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
        self._because: dict[str, str] = {}  # user -> the request whose change is waiting to be shown
        self._failures: dict[str, int] = {}

    def publish(self, user: str, *, flash: str | None = None, page: int | None = None,
                request_id: str | None = None) -> None:
        """Publish soon: at once if this user's Home wasn't published in the last second."""
        with self._lock:
            if request_id:
                self._because[user] = request_id
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
                self.publish(user, request_id=request.id)

    def _publish_now(self, user: str) -> None:
        with self._lock:
            flash, page = self._scheduled.pop(user, (None, 0))
            request_id = self._because.pop(user, None)
            self._last[user] = time.monotonic()
        try:
            view = self.render(user, flash=flash, page=page)
        except Exception:
            log.exception("rendering the Home tab for %s failed", user)
            return
        self.delivery.submit(self._send, user, view, flash, request_id)

    def _send(self, user: str, view: dict, flash: str | None, request_id: str | None) -> None:
        """views.publish (retried within a bound by delivery); if Slack still refused, publish again later."""
        if self.delivery.publish_view(user, view, request_id=request_id):
            with self._lock:
                self._failures.pop(user, None)
            return
        with self._lock:
            failures = self._failures[user] = self._failures.get(user, 0) + 1
        if failures >= MAX_FAILURES:
            log.error("giving up on the Home tab of %s after %d failed publishes (request %s)", user, failures,
                      request_id)
            with self._lock:
                self._failures.pop(user, None)
            return
        log.warning("Home tab of %s not published (request %s); trying again", user, request_id)
        timer = threading.Timer(RETRY_AFTER * failures, self.publish, args=(user,),
                                kwargs={"flash": flash, "request_id": request_id})
        timer.daemon = True
        timer.start()

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
