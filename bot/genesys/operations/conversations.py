"""Reading a conversation (any media we can move) and the blind-transfer POSTs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PureCloudPlatformClientV2 import TransferToAddressRequest, TransferToAgentRequest, TransferToQueueRequest

from bot.domain.conversation import Conversation, Media
from bot.domain.target import Target, TargetKind, mask_number, normalize_number
from bot.genesys import mapping
from bot.genesys.operations.validate import require_uuid
from bot.ports.genesys import GenesysBadRequest, GenesysNotACall, GenesysNotFound, Priority

if TYPE_CHECKING:
    from bot.genesys.client import SdkGenesysClient


def get_conversation(client: SdkGenesysClient, conversation_id: str, priority: Priority) -> Conversation:
    """GET /conversations/calls/{id}; on a 404 GET /conversations/{id} to learn the media."""
    require_uuid(conversation_id, "conversation", "get_call")
    try:
        return client.run(
            "get_call",
            lambda: client.apis.conversations.get_conversations_call(conversation_id),
            subject=f"reading conversation {conversation_id}",
            priority=priority,
            read=mapping.call_conversation,
        ).value
    except GenesysNotFound as not_a_call:
        # Not a voice call, or no such conversation: the generic read tells which. When it says
        # "a voice call", the calls endpoint's 404 stays the honest answer.
        conversation = _read_generic(client, conversation_id, priority)
        if conversation.media is Media.CALL:
            raise not_a_call from None
        return conversation


def _read_generic(client: SdkGenesysClient, conversation_id: str, priority: Priority) -> Conversation:
    # A 403 here names conversation:communication:view (PERMISSIONS["get_conversation"]).
    reply = client.run(
        "get_conversation",
        lambda: client.apis.conversations.get_conversation(conversation_id),
        subject=f"reading conversation {conversation_id}",
        priority=priority,
        read=mapping.movable_conversation,
    )
    if isinstance(reply.value, Conversation):
        return reply.value
    label = reply.value or "unknown"
    article = "an" if label[:1] in "aeiou" else "a"
    raise GenesysNotACall(
        f"Conversation {conversation_id} is {article} {label} conversation; the bot can only move calls, "
        "chats, emails and callbacks.",
        media=label,
        status=404,
        code="not.a.call",
        correlation_id=reply.correlation_id,
        operation="get_conversation",
    )


def _queue_body(target: Target) -> Any:
    body = TransferToQueueRequest()  # SDK models take no constructor kwargs
    body.queue_id = target.id
    return body


def _agent_body(target: Target) -> Any:
    body = TransferToAgentRequest()
    body.user_id = target.id
    return body


def _address_body(target: Target) -> Any:
    body = TransferToAddressRequest()
    body.address = target.id
    return body


# kind -> (operation, SDK method, body builder)
_TRANSFERS: dict[TargetKind, tuple[str, str, Callable[[Target], Any]]] = {
    TargetKind.QUEUE: ("replace_queue", "post_conversation_participant_replace_queue", _queue_body),
    TargetKind.AGENT: ("replace_agent", "post_conversation_participant_replace_agent", _agent_body),
    TargetKind.NUMBER: ("transfer_address", "post_conversation_participant_transfer", _address_body),
}


def transfer(client: SdkGenesysClient, conversation_id: str, participant_id: str, target: Target) -> str | None:
    """The one POST for the target's kind; 202 means accepted, not done. Returns its correlation id.

    transferType is left unset: the server default is Unattended (a blind transfer), and an
    invalid string would be sent as "outdated_sdk_version".
    """
    operation, method_name, build = _TRANSFERS[target.kind]
    require_uuid(conversation_id, "conversation", operation)
    require_uuid(participant_id, "participant", operation)
    if target.kind is TargetKind.NUMBER:
        if normalize_number(target.id) != target.id:
            raise GenesysBadRequest(
                "Refusing to send a number that is not E.164 (+ and digits) to Genesys.", operation=operation
            )
        where = mask_number(target.id)
    else:
        require_uuid(target.id, target.kind.value, operation)
        where = f"{target.kind.value} {target.name}"
    body = build(target)
    post = getattr(client.apis.conversations, method_name)
    reply = client.run(
        operation,
        lambda: post(conversation_id, participant_id, body),
        subject=f"transferring conversation {conversation_id} to {where}",
        method="POST",
        write=True,
        expect_body=False,
    )
    return reply.correlation_id
