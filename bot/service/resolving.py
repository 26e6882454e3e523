"""From what was typed to what Genesys knows: the conversation and the target.

Each answer is either the thing itself or a Problem saying exactly what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.conversation import Conversation, GenesysUser, Media
from bot.domain.parsing import AGENT_CHAT, AGENT_EMAIL, ME, NUMBER, QUEUE_ID, is_uuid
from bot.domain.problems import Code, Problem
from bot.domain.target import Target, TargetKind, mask_number, number_allowed
from bot.ports.genesys import GenesysError, GenesysPort, Priority
from bot.service.agents import AgentDirectory
from bot.service.genesys_problems import During, from_genesys
from bot.service.queues import QueueDirectory


@dataclass(frozen=True)
class ResolvedAgent:
    user: GenesysUser
    chat_user: str | None


class Resolver:
    def __init__(
        self,
        genesys: GenesysPort,
        queues: QueueDirectory,
        agents: AgentDirectory,
        *,
        external_prefixes: Callable[[], tuple[str, ...]],
    ) -> None:
        self.genesys = genesys
        self.queues = queues
        self.agents = agents
        self._prefixes = external_prefixes

    # ---- the conversation ---------------------------------------------------------------------

    def conversation(self, call: str, requester: str) -> Conversation:
        if is_uuid(call):
            return self.read(call, during=During.READING_CALL)
        agent = self._agent_for_call(call, requester)
        calls = self.agents.live_calls(agent.user)
        facts = {"agent": agent.user.name, "chat_user": agent.chat_user, "me": call == ME}
        if not calls:
            raise Problem(Code.NO_LIVE_CALL, facts)
        if len(calls) > 1:
            candidates = [
                {
                    "conversation_id": c.conversation_id,
                    "queue": self.queues.name_of(c.queue_id) or "",
                    "started": c.started.isoformat() if c.started else None,
                }
                for c in calls[:10]
            ]
            raise Problem(Code.SEVERAL_CALLS, {**facts, "candidates": candidates})
        return self.read(calls[0].conversation_id, during=During.READING_CALL)

    def _agent_for_call(self, call: str, requester: str) -> ResolvedAgent:
        if call == ME:
            return ResolvedAgent(self.agents.for_chat_user(requester), requester)
        if call.startswith(AGENT_CHAT):
            chat_user = call[len(AGENT_CHAT):]
            return ResolvedAgent(self.agents.for_chat_user(chat_user), chat_user)
        if call.startswith(AGENT_EMAIL):
            email = call[len(AGENT_EMAIL):]
            try:
                return ResolvedAgent(self.agents.for_email(email), None)
            except Problem as problem:
                if problem.code is Code.AGENT_NOT_FOUND:
                    raise Problem(Code.NO_GENESYS_USER, {"email": email}) from None
                raise
        raise Problem(Code.BAD_CALL_REF, {"token": call[:80]})

    def read(self, conversation_id: str, *, during: str, priority: Priority = Priority.CRITICAL) -> Conversation:
        try:
            return self.genesys.get_conversation(conversation_id, priority=priority)
        except GenesysError as error:
            raise from_genesys(error, during=during) from error

    # ---- the target ---------------------------------------------------------------------------

    def target(self, text: str, media: Media | None = None) -> tuple[Target, GenesysUser | None]:
        """The resolved target, plus the Genesys user's details for an agent target.

        `media`: the conversation's; a phone station matters for calls and callbacks (None: a call)."""
        if text.startswith(NUMBER):
            return self._number(text[len(NUMBER):]), None
        if text.startswith((AGENT_CHAT, AGENT_EMAIL)):
            return self._agent(text, media)
        if text.startswith(QUEUE_ID) or text:
            queue = self.queues.resolve(text)
            return Target(TargetKind.QUEUE, queue.id, queue.name, queue.division_name), None
        raise Problem(Code.MISSING_TARGET)

    def _number(self, number: str) -> Target:
        prefixes = self._prefixes()
        if not prefixes:
            raise Problem(Code.NUMBERS_DISABLED, {"masked": mask_number(number)})
        if not number_allowed(number, prefixes):
            raise Problem(Code.NUMBER_NOT_ALLOWED, {"masked": mask_number(number), "prefixes": list(prefixes)})
        return Target(TargetKind.NUMBER, number, number)

    def _agent(self, text: str, media: Media | None) -> tuple[Target, GenesysUser]:
        if text.startswith(AGENT_CHAT):
            user = self.agents.for_chat_user(text[len(AGENT_CHAT):])
        else:
            user = self.agents.for_email(text[len(AGENT_EMAIL):])
        details = self.agents.details(user)
        if not details.active:
            raise Problem(Code.AGENT_INACTIVE, {"agent": details.name})
        if details.has_station is False and media in (None, Media.CALL, Media.CALLBACK):
            raise Problem(Code.AGENT_NO_STATION, {"agent": details.name})
        return Target(TargetKind.AGENT, details.id, details.name, details.email or user.email), details
