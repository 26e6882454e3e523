"""Fakes for the chat-side ports and the clock, for the fast service tests."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.domain.problems import Code, Problem
from bot.domain.request import TransferRequest


class RecordingNotifier:
    def __init__(self) -> None:
        self.seen: list[TransferRequest] = []
        self._lock = threading.Lock()

    def changed(self, request: TransferRequest) -> None:
        with self._lock:
            self.seen.append(request)

    def states(self, request_id: str) -> list[str]:
        return [r.state.value for r in self.seen if r.id == request_id]


class FakePeople:
    def __init__(self, emails: dict[str, str | None] | None = None, groups: dict[str, set[str]] | None = None):
        self.emails = emails or {}
        self.groups = groups or {}

    def is_member(self, user_id: str, ids: Iterable[str]) -> bool:
        ids = set(ids)
        return user_id in ids or any(user_id in self.groups.get(g, set()) for g in ids)

    def email_of(self, user_id: str) -> str:
        if user_id not in self.emails:
            raise Problem(Code.CHAT_USER_UNKNOWN, {"chat_user": user_id})
        email = self.emails[user_id]
        if email is None:
            raise Problem(Code.CHAT_EMAIL_HIDDEN, {"chat_user": user_id})
        return email


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
