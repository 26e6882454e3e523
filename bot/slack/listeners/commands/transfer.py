"""`/transfer <conversation-id> <queue name>`: parse, ack at once, transfer in the background."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, Respond

from bot.domain.model import RequestState
from bot.domain.parsing import HelpRequest, ParseError, TransferCommand, parse_transfer_text
from bot.service.problems import Problem
from bot.service.transfers import Origin
from bot.slack import blocks
from bot.slack.listeners.context import ListenerContext

log = logging.getLogger(__name__)

UNEXPECTED = Problem(
    "internal",
    "The bot hit an unexpected error while handling your transfer.",
    "Check the call in Genesys before trying again, and tell whoever runs the bot.",
)


def make_transfer_command(ctx: ListenerContext) -> Callable[..., None]:
    def transfer_command(ack: Ack, command: dict, respond: Respond) -> None:
        parsed = parse_transfer_text(command.get("text"))
        if isinstance(parsed, HelpRequest):
            ack(**blocks.usage())
            return
        if isinstance(parsed, ParseError):
            ack(**blocks.usage(parsed.message))
            return
        ack(text=blocks.working_on_it(parsed.conversation_id, parsed.queue_name))
        origin = Origin(
            channel_id=command.get("channel_id"),
            team_id=command.get("team_id"),
            response_url=command.get("response_url"),
        )
        ctx.run_later(run_transfer, ctx, respond, command["user_id"], parsed, origin)

    return transfer_command


def run_transfer(
    ctx: ListenerContext, respond: Respond, requester: str, parsed: TransferCommand, origin: Origin
) -> None:
    try:
        ending = ctx.service().submit(
            requester=requester,
            conversation_id=parsed.conversation_id,
            queue_name=parsed.queue_name,
            origin=origin,
        )
    except Problem as problem:
        respond(**blocks.problem(problem))
        return
    except Exception:
        log.exception("transfer of %s failed unexpectedly", parsed.conversation_id)
        respond(**blocks.problem(UNEXPECTED))
        return
    request = ending.request
    if request.state is RequestState.PENDING:
        respond(**blocks.pending_notice(request, request.message_channel or origin.channel_id or ""))
    elif request.state is RequestState.SUCCEEDED:
        respond(**blocks.direct_result(ending))
    else:
        respond(**blocks.problem(ending.problem or UNEXPECTED))
