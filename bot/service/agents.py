"""People: chat user → email → Genesys user, and the live interactions an agent holds.

The mapping is cached briefly: team leads often act on the same few agents in a row, and
each miss costs a chat lookup and a Genesys search.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.domain.conversation import GenesysUser, LiveInteraction, Media
from bot.domain.problems import Code, Problem
from bot.ports.chat import People
from bot.ports.genesys import GenesysError, GenesysNotFound, GenesysPort
from bot.service.genesys_problems import During, from_genesys


class AgentDirectory:
    def __init__(
        self,
        genesys: GenesysPort,
        people: People,
        *,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._genesys = genesys
        self._people = people
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._by_email: dict[str, tuple[float, GenesysUser]] = {}

    def for_chat_user(self, chat_user_id: str) -> GenesysUser:
        """Raises Problem: the email is hidden, the chat user is unknown, or no Genesys user has it."""
        email = self._people.email_of(chat_user_id)
        try:
            return self.for_email(email)
        except Problem as problem:
            if problem.code is Code.AGENT_NOT_FOUND:
                raise Problem(Code.NO_GENESYS_USER, {"email": email, "chat_user": chat_user_id}) from None
            raise

    def for_email(self, email: str) -> GenesysUser:
        key = email.casefold()
        with self._lock:
            hit = self._by_email.get(key)
        if hit is not None and self._clock() - hit[0] <= self._ttl:
            return hit[1]
        try:
            user = self._genesys.find_user_by_email(email)
        except GenesysError as error:
            raise from_genesys(error, during=During.FINDING_AGENT) from error
        if user is None:
            raise Problem(Code.AGENT_NOT_FOUND, {"email": email})
        with self._lock:
            self._by_email[key] = (self._clock(), user)
        return user

    def details(self, user: GenesysUser) -> GenesysUser:
        """The user with state, station and routing status read now (not cached: they change)."""
        try:
            return self._genesys.get_user(user.id)
        except GenesysNotFound:
            raise Problem(Code.AGENT_NOT_FOUND, {"email": user.email or user.name}) from None
        except GenesysError as error:
            raise from_genesys(error, during=During.FINDING_AGENT) from error

    def live_calls(self, user: GenesysUser) -> list[LiveInteraction]:
        """The agent's live voice interactions (an activity query may list chats and emails too)."""
        try:
            live = self._genesys.live_interactions(user.id)
        except GenesysError as error:
            raise from_genesys(error, during=During.FINDING_CALL) from error
        seen: dict[str, LiveInteraction] = {}
        for item in live:
            if item.media in (Media.CALL, None):
                seen.setdefault(item.conversation_id, item)
        return list(seen.values())
