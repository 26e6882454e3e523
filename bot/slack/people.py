"""Who people are in Slack: approver membership (users and user groups) and email addresses.

Both are cached briefly: usergroups.users.list is Tier 2, and the same few approvers and agents
come up again and again. Membership fails closed: an unreadable group grants nobody new.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.problems import Code, Problem

log = logging.getLogger(__name__)


class SlackPeople:
    def __init__(
        self,
        client: WebClient,
        *,
        group_ttl: float = 60.0,
        email_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._group_ttl = group_ttl
        self._email_ttl = email_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._emails: dict[str, tuple[float, str]] = {}

    def is_member(self, user_id: str, ids: Iterable[str]) -> bool:
        ids = list(ids)
        if user_id in ids:
            return True
        return any(user_id in self._group_members(g) for g in ids if g.startswith("S"))

    def _group_members(self, group: str) -> frozenset[str]:
        with self._lock:
            hit = self._groups.get(group)
        if hit and self._clock() - hit[0] < self._group_ttl:
            return hit[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or ())
        except (SlackApiError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("usergroups.users.list for %s failed: %s", group, reason)
            return hit[1] if hit else frozenset()
        with self._lock:
            self._groups[group] = (self._clock(), members)
        return members

    def email_of(self, user_id: str) -> str:
        with self._lock:
            hit = self._emails.get(user_id)
        if hit and self._clock() - hit[0] < self._email_ttl:
            return hit[1]
        try:
            response = self._client.users_info(user=user_id)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in ("user_not_found", "user_not_visible"):
                raise Problem(Code.CHAT_USER_UNKNOWN, {"chat_user": user_id}) from None
            if code == "missing_scope":
                raise Problem(Code.CHAT_EMAIL_HIDDEN, {"chat_user": user_id, "missing_scope": True}) from None
            raise Problem(Code.CHAT_USER_UNKNOWN, {"chat_user": user_id, "error": code}) from None
        except OSError:
            raise Problem(Code.CHAT_USER_UNKNOWN, {"chat_user": user_id, "error": "network"}) from None
        profile = (response.get("user") or {}).get("profile") or {}
        email = profile.get("email")
        if not email:
            raise Problem(Code.CHAT_EMAIL_HIDDEN, {"chat_user": user_id})
        with self._lock:
            self._emails[user_id] = (self._clock(), email)
        return email
