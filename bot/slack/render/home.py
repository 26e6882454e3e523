"""The App Home tab: an approver's queue of decisions, or a requester's own transfers.

Approvers get every pending request they may act on, soonest to expire first, with the same
Approve/Deny buttons as the channel message, plus the recent history. Everyone else gets their
own requests (Cancel on open ones), how to use /transfer, and a button that opens the form.
Slack allows 100 blocks in a view, so long queues are paged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.domain.request import OPEN_STATES, RequestState, TransferRequest
from bot.slack import kit
from bot.slack.render import describe as d
from bot.slack.render.approval import decision_buttons
from bot.slack.render.notices import cancel_button
from bot.slack.text import SECTION_TEXT, clip, code, duration, esc, join, mention, moment
from bot.slack.wording import USAGE

S = RequestState
OPEN_MODAL = "transfer_open_modal"
PAGE_NEXT = "home_page_next"
PAGE_PREV = "home_page_prev"
PAGE_SIZE = 20
RECENT = 20
MINE_OPEN = 20
ACTIVE = OPEN_STATES | {S.RECEIVED}


def _expiry_key(request: TransferRequest) -> tuple[bool, datetime, datetime]:
    return (request.expires_at is None, request.expires_at or request.created_at, request.created_at)


def _open_button() -> kit.Block:
    return kit.actions("home:open", kit.button("Transfer a conversation", OPEN_MODAL, "open", style="primary"))


def _pending_text(request: TransferRequest, now: datetime, show_number: bool) -> str:
    snap = request.snapshot
    agent = f" ({esc(snap.agent_name, 120)})" if snap and snap.agent_name else ""
    first = (f"{mention(request.requester_id)} → {d.target_detail(request, show_number=show_number)} · "
             f"{d.conversation(request)}{agent}")
    second = join([
        f"asked {duration(now - request.created_at)} ago",
        d.time_left(request, now),
        f"queue at request time: {d.queue_then(request)}" if snap else "",
        f"going {d.going_for(request)}" if d.going_for(request) else "",
    ])
    glass = ":rotating_light: break glass · " if request.break_glass else ""
    return join([first, glass + second, d.votes(request)], "\n")


def _pending_entry(request: TransferRequest, viewer: str, now: datetime, show_number: bool) -> list[kit.Block]:
    text = _pending_text(request, now, show_number)
    if request.requester_id == viewer:  # your own request: you can't decide it, you can withdraw it
        return [kit.section(text + "\n_Your own request._", block_id=f"home:{request.id}",
                            accessory=cancel_button(request))]
    return [kit.section(text, block_id=f"home:text:{request.id}"),
            decision_buttons(request, block_id=f"home:{request.id}")]


def _pager(page: int, pages: int, total: int, shown_to: int) -> list[kit.Block]:
    if pages <= 1:
        return []
    rest = total - shown_to
    summary = f"Showing {page * PAGE_SIZE + 1}–{shown_to} of {total} waiting"
    if rest > 0:
        summary += f"; and {rest} more waiting (oldest first); use Next/Previous."
    else:
        summary += "; use Previous for the earlier ones."
    buttons = []
    if page > 0:
        buttons.append(kit.button("Previous", PAGE_PREV, str(page - 1)))
    if page < pages - 1:
        buttons.append(kit.button("Next", PAGE_NEXT, str(page + 1)))
    return [b for b in (kit.context(summary), kit.actions("home:pages", *buttons) if buttons else None) if b]


def _history_line(request: TransferRequest, now: datetime, show_number: bool) -> str:
    when = request.acted_at or request.updated_at or request.created_at
    who = f"by {mention(request.acted_by)}" if request.acted_by and request.acted_by != request.requester_id else ""
    cid = f"correlation id {code(request.correlation_id)}" if request.correlation_id else ""
    return "• " + join([
        d.outcome(request, show_number=show_number),
        f"{mention(request.requester_id)} → {d.target(request, show_number=show_number)}",
        d.conversation(request),
        join([who, moment(when, now)], " "),
        cid,
    ])


def _chunks(lines: Iterable[str]) -> list[kit.Block]:
    """Lines packed into as few sections as fit under the section text limit."""
    out: list[kit.Block] = []
    current = ""
    for line in lines:
        line = clip(line, SECTION_TEXT)
        if current and len(current) + 1 + len(line) > SECTION_TEXT:
            out.append(kit.section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(kit.section(current))
    return out


def _history(title: str, requests: list[TransferRequest], now: datetime,
             show_number: Callable[[TransferRequest], bool], empty: str) -> list[kit.Block]:
    lines = [_history_line(r, now, show_number(r)) for r in requests[:RECENT]]
    return [kit.section(f"*{title}*"), *(_chunks(lines) or [kit.context(empty)])]


def _approver_blocks(viewer: str, pending: list[TransferRequest], recent: list[TransferRequest],
                     show_number: Callable[[TransferRequest], bool], now: datetime, page: int) -> list[kit.Block]:
    ordered = sorted(pending, key=_expiry_key)
    total = len(ordered)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = ordered[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    out: list[kit.Block] = [kit.section(f"*Waiting for a decision ({total})*, soonest to expire first")]
    if not shown:
        out.append(kit.context("Nothing is waiting for approval right now."))
    for request in shown:
        out.extend(_pending_entry(request, viewer, now, show_number(request)))
    out.extend(_pager(page, pages, total, page * PAGE_SIZE + len(shown)))
    out.append(kit.divider())
    out.extend(_history("Recently finished", recent, now, show_number, "No finished transfers yet."))
    return out


def _mine_blocks(mine: list[TransferRequest], show_number: Callable[[TransferRequest], bool],
                 now: datetime) -> list[kit.Block]:
    active = [r for r in mine if r.state in ACTIVE][:MINE_OPEN]
    finished = [r for r in mine if r.state not in ACTIVE]
    out: list[kit.Block] = [kit.section("*Your open requests*")]
    if not active:
        out.append(kit.context("You have no open transfer requests."))
    for request in active:
        text = join([f"{d.conversation(request)} → {d.target(request, show_number=show_number(request))}",
                     d.outcome(request, show_number=show_number(request)),
                     join([f"asked {duration(now - request.created_at)} ago", d.time_left(request, now),
                           d.votes(request)])], "\n")
        accessory = cancel_button(request) if request.state is S.PENDING else None
        out.append(kit.section(text, block_id=f"home:{request.id}", accessory=accessory))
    out.extend(_history("Your recent requests", finished, now, show_number, "Nothing yet."))
    out.extend([kit.divider(), kit.section(USAGE)])
    return out


def home_view(
    viewer: str,
    *,
    approver: bool,
    pending: list[TransferRequest],
    recent: list[TransferRequest],
    mine: list[TransferRequest],
    show_number: Callable[[TransferRequest], bool],
    now: datetime,
    flash: str | None = None,
    page: int = 0,
) -> dict[str, Any]:
    """views.publish body for `viewer`. `pending`: the requests this approver may act on (the caller
    filters); `recent`: the latest finished ones; `mine`: the viewer's own. `flash` (mrkdwn) is a
    one-line notice on top, e.g. the answer to a click made here, where there is no response_url.
    """
    top: list[kit.Block | None] = [
        kit.header("Genesys transfers"),
        kit.section(flash) if flash and flash.strip() else None,
        _open_button(),
    ]
    body = (_approver_blocks(viewer, pending, recent, show_number, now, page) if approver
            else _mine_blocks(mine, show_number, now))
    return {"type": "home", "blocks": kit.blocks(*top, *body, limit=kit.MAX_VIEW_BLOCKS)}

