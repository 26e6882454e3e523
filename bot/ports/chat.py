"""What the service needs from the chat side (Slack), without knowing it is Slack."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.domain.request import TransferRequest


class Notifier(Protocol):
    def changed(self, request: TransferRequest) -> None:
        """The request changed: bring its messages up to date. Must not block on the chat API."""
        ...


class People(Protocol):
    def is_member(self, user_id: str, ids: Iterable[str]) -> bool:
        """True if user_id is one of ids, directly or as a member of a user group among them."""
        ...

    def email_of(self, user_id: str) -> str:
        """The user's email. Raises Problem(CHAT_EMAIL_HIDDEN | CHAT_USER_UNKNOWN)."""
        ...
