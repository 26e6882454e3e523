"""Who may approve: configured Slack users, plus members of configured user groups.

Group membership comes from usergroups.users.list (Tier 2 rate limit), so it is cached briefly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class SlackApproverDirectory:
    def __init__(
        self,
        client: WebClient,
        *,
        users: Iterable[str] = (),
        groups: Iterable[str] = (),
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._users = frozenset(users)
        self._groups = tuple(groups)
        self._ttl = ttl_seconds
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def is_approver(self, user_id: str) -> bool:
        if user_id in self._users:
            return True
        return any(user_id in self._group_members(group) for group in self._groups)

    def _group_members(self, group: str) -> frozenset[str]:
        with self._lock:
            hit = self._members.get(group)
            if hit and self._clock() - hit[0] < self._ttl:
                return hit[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or ())
        except SlackApiError as error:
            # Fail closed: an unreadable group grants nobody, but keep the last known list if any.
            log.warning("usergroups.users.list for %s failed: %s", group, error.response.get("error"))
            return hit[1] if hit else frozenset()
        with self._lock:
            self._members[group] = (self._clock(), members)
        return members
