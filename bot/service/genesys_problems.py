"""Turn a Genesys failure into a Problem: a code and the facts each surface words its own way."""

from __future__ import annotations

from bot.domain.problems import Code, Problem
from bot.ports.genesys import (
    PERMISSIONS,
    GenesysAuthError,
    GenesysBadRequest,
    GenesysError,
    GenesysForbidden,
    GenesysNotACall,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
    GenesysUnreadable,
)


class During:
    """What the bot was doing; part of the facts, worded by each surface."""

    READING_CALL = "reading_call"
    FINDING_CALL = "finding_call"
    FINDING_QUEUE = "finding_queue"
    FINDING_AGENT = "finding_agent"
    SENDING = "sending_transfer"
    RECHECKING = "rechecking_call"
    CONFIRMING = "confirming"


def from_genesys(error: GenesysError, *, during: str) -> Problem:
    facts: dict[str, object] = {"during": during}
    if error.operation:
        facts["operation"] = error.operation
    cid = error.correlation_id
    if isinstance(error, GenesysNotACall):
        return Problem(Code.MEDIA_NOT_SUPPORTED, {**facts, "media": error.media}, cid)
    if isinstance(error, GenesysNotFound):
        return Problem(Code.CONVERSATION_NOT_FOUND, facts, cid)
    if isinstance(error, GenesysForbidden):
        facts["permissions"] = list(PERMISSIONS.get(error.operation or "", ()))
        return Problem(Code.FORBIDDEN, facts, cid)
    if isinstance(error, GenesysAuthError):
        return Problem(Code.AUTH, facts, cid)
    if isinstance(error, GenesysRateLimited):
        return Problem(Code.RATE_LIMITED, facts, cid)
    if isinstance(error, GenesysTimeout | GenesysUnavailable):
        if error.maybe_executed:
            return Problem(Code.UNCERTAIN, facts, cid)
        facts.update({k: v for k, v in (("cause", error.cause), ("host", error.host)) if v})
        code = Code.TIMEOUT if isinstance(error, GenesysTimeout) else Code.UNAVAILABLE
        return Problem(code, facts, cid)
    if isinstance(error, GenesysUnreadable):
        return Problem(Code.UNREADABLE, facts, cid)
    if isinstance(error, GenesysBadRequest):
        return Problem(Code.REJECTED, {**facts, "message": error.message}, cid)
    if error.maybe_executed:
        return Problem(Code.UNCERTAIN, facts, cid)
    return Problem(Code.GENESYS_ERROR, {**facts, "message": error.message}, cid)
