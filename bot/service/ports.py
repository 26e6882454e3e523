"""What the use cases need from the chat side, without knowing it is Slack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain.model import TransferRequest
from bot.service.problems import Problem


@dataclass(frozen=True)
class Ending:
    """How a request finished: the final request plus, on failure, what went wrong."""

    request: TransferRequest
    problem: Problem | None = None


class ApproverDirectory(Protocol):
    def is_approver(self, user_id: str) -> bool:
        """True if the user is a configured approver, directly or through a user group."""
        ...


class Notifier(Protocol):
    def post_approval_request(self, request: TransferRequest) -> tuple[str, str]:
        """Post the Approve/Deny message; returns (channel, ts) so it can be updated later."""
        ...

    def request_ended(self, ending: Ending) -> None:
        """Update the approval message in place and tell the requester in its thread."""
        ...
