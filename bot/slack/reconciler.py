"""Keep each request's Slack messages in step with its state: the service's Notifier.

The service only says "request X changed". This brings Slack up to date from what the
database says now, so nothing here can report an outcome the database doesn't hold: a lost
update is redone by the next sweep, and a replica that restarts carries on where another left.
Per request, the Slack side keeps what it has already done (flags) and the last version it
synced, under a short lease, so two replicas never post the same message twice.

What each request gets:
- needing approval: one approval message (posted when pending, then edited in place through
  every later state), a private notice to the requester with Cancel, and one thread reply to
  the requester when it ends;
- direct: one result message in the channel once the transfer is sent (edited in place until
  Genesys settles it), a thread reply to the requester if it fails after acceptance, and a
  private notice when it was refused before anything was sent;
- break glass: one notice in the approval channel;
- from the command line: nothing (the operator's terminal shows the outcome).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.domain.parsing import NUMBER
from bot.domain.problems import Code
from bot.domain.request import RequestState, TransferRequest, Via
from bot.domain.target import TargetKind
from bot.ports.store import RequestStore, StoreUnavailable
from bot.ports.urgency import yield_to_awaited
from bot.slack.delivery import Ambiguous, NotDelivered, Posted, SlackDelivery
from bot.slack.origin import MessageRef, decode_message_ref, decode_origin
from bot.slack.render import approval_message, break_glass_notice, requester_notice, result_message, thread_reply

log = logging.getLogger(__name__)
S = RequestState
TELL_IN_THREAD = frozenset({S.FAILED, S.UNCERTAIN})
TRANSIENT = frozenset({S.APPROVED, S.EXECUTING, S.ACCEPTED})
SYNC_LEASE = timedelta(seconds=10)
SETTLE_WINDOW = 1.5  # seconds a direct result waits for Genesys' confirmation before showing "sent"
MAX_ATTEMPTS = 8


class SyncState(Protocol):
    synced_version: int
    flags: dict
    attempts: int


class SlackStateStore(Protocol):
    def claim_sync(self, request_id: str, owner: str, now: datetime, lease_until: datetime) -> SyncState | None: ...
    def save_sync(self, request_id: str, owner: str, synced_version: int, flags: dict, attempts: int = 0) -> None: ...
    def release_sync(self, request_id: str, owner: str) -> None: ...
    def unsynced(self, now: datetime, limit: int, max_age_seconds: float) -> list[str]: ...
    def take_response_url(self, request_id: str, now: datetime) -> str | None: ...


class Reconciler:
    def __init__(
        self,
        *,
        store: RequestStore,
        state: SlackStateStore,
        delivery: SlackDelivery,
        approval_channel: str | None,
        owner: str,
        now: Callable[[], datetime],
        on_change: Callable[[TransferRequest], None] = lambda r: None,
        undeliverable: Callable[..., object] = lambda request_id, error, channel=None: None,
        workers: int = 4,
    ) -> None:
        self.store = store
        self.state = state
        self.delivery = delivery
        self.approval_channel = approval_channel
        self.owner = owner
        self.now = now
        self.on_change = on_change
        self.undeliverable = undeliverable
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-sync")
        self._lock = threading.Lock()
        self._queued: set[str] = set()
        self._dirty: set[str] = set()
        self._closed = False

    # ---- Notifier --------------------------------------------------------------------------------

    def changed(self, request: TransferRequest) -> None:
        self.kick(request.id)
        try:
            self.on_change(request)
        except Exception:
            log.exception("home refresh for request %s failed", request.id)

    def kick(self, request_id: str) -> None:
        with self._lock:
            if self._closed:
                return
            if request_id in self._queued:
                self._dirty.add(request_id)
                return
            self._queued.add(request_id)
        self._pool.submit(self._run, request_id)

    def sweep(self) -> int:
        """Pick up anything not yet synced (a crash, a lost kick, another replica's leftovers)."""
        try:
            ids = self.state.unsynced(self.now(), 100, 86400)
        except StoreUnavailable as error:
            log.warning("slack sync sweep skipped: %s", error)
            return 0
        for request_id in ids:
            self.kick(request_id)
        return len(ids)

    def close(self, timeout: float = 5.0) -> None:
        """Finish the syncs already running (bounded), so their leases are given back."""
        with self._lock:
            self._closed = True
        waiter = threading.Thread(target=self._pool.shutdown, kwargs={"wait": True, "cancel_futures": True},
                                  daemon=True)
        waiter.start()
        waiter.join(timeout)

    def _run(self, request_id: str) -> None:
        try:
            while True:
                yield_to_awaited()  # Slack acks in flight go first (bounded; see bot.ports.urgency)
                self.sync(request_id)
                with self._lock:
                    if request_id not in self._dirty:
                        self._queued.discard(request_id)
                        return
                    self._dirty.discard(request_id)
        except StoreUnavailable as error:
            log.info("slack sync of request %s postponed: %s", request_id, error)
            with self._lock:
                self._queued.discard(request_id)
                self._dirty.discard(request_id)
        except Exception:
            log.exception("slack sync of request %s failed", request_id)
            with self._lock:
                self._queued.discard(request_id)
                self._dirty.discard(request_id)

    # ---- one sync ------------------------------------------------------------------------------

    def sync(self, request_id: str) -> bool:
        """Bring Slack up to date with the request; True when it is in step."""
        now = self.now()
        claimed = self.state.claim_sync(request_id, self.owner, now, now + SYNC_LEASE)
        if claimed is None:
            return False  # another replica is on it; the sweep retries if needed
        flags, attempts = dict(claimed.flags or {}), claimed.attempts
        request = None
        try:
            for _ in range(5):  # the request may move again while we post
                request = self.store.get(request_id)
                if request is None or (request.version <= claimed.synced_version and not flags.get("retry")):
                    break
                flags.pop("retry", None)
                self._apply(request, flags)
                latest = self.store.get(request_id)
                if latest is None or latest.version == request.version:
                    break
        except _Later as later:
            self.state.save_sync(request_id, self.owner, claimed.synced_version, flags, attempts)
            timer = threading.Timer(later.seconds, self.kick, args=(request_id,))
            timer.daemon = True
            timer.start()
            return False
        except (NotDelivered, Ambiguous) as error:
            attempts += 1
            log.warning("slack sync of request %s failed (attempt %d): %s", request_id, attempts, error)
            if attempts < MAX_ATTEMPTS:
                flags["retry"] = True
                self.state.save_sync(request_id, self.owner, claimed.synced_version, flags, attempts)
                return False
            log.error("giving up on slack updates for request %s after %d attempts", request_id, attempts)
        version = request.version if request is not None else claimed.synced_version
        self.state.save_sync(request_id, self.owner, version, flags, 0)
        return True

    def _apply(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        if request.state is S.RECEIVED or request.via is Via.CLI:
            return  # an operator's command-line transfer is answered in the terminal; nobody in Slack asked
        if request.break_glass and not flags.get("break_glass"):
            self._break_glass(request, flags)
            flags["break_glass"] = True
        if request.needs_approval and request.state is not S.REFUSED:
            self._approval_flow(request, flags)
        else:
            self._direct_flow(request, flags)

    # ---- approval flow -------------------------------------------------------------------------

    def _approval_flow(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        ref = decode_message_ref(request.message_ref)
        if ref is None and request.state is not S.PENDING:
            # It ended before any approval message existed (e.g. it couldn't be posted).
            if not flags.get("notice_final"):
                self._tell_requester(request, requester_notice(request))
                flags["notice_final"] = True
            return
        if ref is None:
            ref = self._post_approval(request, flags)
            if ref is None:
                return
            flags["fp"] = _fingerprint(approval_message(request, request.created_at, show_number=False))
            request = dataclasses.replace(request, message_ref=ref.encode())
        else:
            if request.state in TRANSIENT and not self._settled_enough(request, flags, first=False):
                raise _Later(SETTLE_WINDOW)
            body = approval_message(request, request.created_at, show_number=False)
            _even_if_it_fails(lambda: self._update_if_changed(ref, body, flags, request.id),
                              then=lambda: self._final_thread_reply(request, ref, flags))
        if request.state is S.PENDING and not flags.get("notice") and self._still_pending(request.id):
            self._tell_requester(request, requester_notice(request))
            flags["notice"] = True
        self._final_thread_reply(request, ref, flags)

    def _still_pending(self, request_id: str) -> bool:
        """A click can decide a request while its message is being posted: then "waiting" is stale."""
        latest = self.store.get(request_id)
        return latest is not None and latest.state is S.PENDING

    def _final_thread_reply(self, request: TransferRequest, ref: MessageRef, flags: dict[str, Any]) -> None:
        if request.state.is_final and not flags.get("thread"):
            self._post(ref.channel, {"text": thread_reply(request)}, request.id, flags, "thread", thread_ts=ref.ts)
            flags["thread"] = True

    def _post_approval(self, request: TransferRequest, flags: dict[str, Any]) -> MessageRef | None:
        origin = decode_origin(request.origin, request.requester_id)
        channel = self.approval_channel or origin.channel
        if not channel:
            self._cannot_post(request, "no_channel", None)
            return None
        try:
            posted = self._post(channel, approval_message(request, request.created_at, show_number=False),
                                request.id, flags, "approval")
        except NotDelivered as error:
            self._cannot_post(request, error.reason, channel)
            return None
        ref = MessageRef(posted.channel, posted.ts)
        if not self.store.set_message_ref(request.id, ref.encode()):
            # A click recorded the ts first (it arrived before we stored it): same message.
            stored = self.store.get(request.id)
            return decode_message_ref(stored.message_ref if stored else None) or ref
        return ref

    def _cannot_post(self, request: TransferRequest, reason: str, channel: str | None) -> None:
        log.warning("approval message for request %s can't be posted: %s", request.id, reason)
        if request.state is S.PENDING:
            self.undeliverable(request.id, reason, channel)

    # ---- direct flow ---------------------------------------------------------------------------

    def _direct_flow(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        if request.state is S.REFUSED:
            if not flags.get("notice"):
                # `now`: a several-calls choice says how long each call has been going.
                self._tell_requester(request, requester_notice(request, self.now()))
                flags["notice"] = True
            if request.problem and request.problem.code is Code.BOT_RESTARTED:
                self._channel_result(request, flags)
            return
        if request.state in (S.APPROVED, S.EXECUTING):
            return  # the POST is on its way; "Working on it" is still true
        if request.state is S.ACCEPTED and not self._settled_enough(request, flags):
            raise _Later(SETTLE_WINDOW)
        _even_if_it_fails(lambda: self._channel_result(request, flags),
                          then=lambda: self._tell_about_failure(request, flags))

    def _tell_about_failure(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        if request.state in TELL_IN_THREAD and not flags.get("thread"):
            ref = decode_message_ref(request.message_ref)
            if ref is not None:
                self._post(ref.channel, {"text": thread_reply(request)}, request.id, flags, "thread",
                           thread_ts=ref.ts)
            else:
                self._tell_requester(request, requester_notice(request))
            flags["thread"] = True

    def _settled_enough(self, request: TransferRequest, flags: dict[str, Any], *, first: bool = True) -> bool:
        """Give Genesys a moment to confirm, so most results appear once, already final."""
        accepted_at = request.updated_at or request.sent_at
        if (first and flags.get("fp")) or accepted_at is None:
            return True
        return (self.now() - accepted_at).total_seconds() >= SETTLE_WINDOW

    def _channel_result(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        """The channel's result: through the command's response_url (works in any channel, no
        membership needed, replaceable in place for 30 minutes / 5 uses), else chat.postMessage."""
        body = result_message(request, request.created_at)
        fingerprint = _fingerprint(body)
        if flags.get("fp") == fingerprint:
            return
        ref = decode_message_ref(request.message_ref)
        if ref is not None:
            self.delivery.update(ref.channel, ref.ts, body, request_id=request.id)
            flags["fp"] = fingerprint
            return
        # Slack echoes the slash command with the first in_channel reply: never for a typed number.
        url = None if _names_a_number(request) else self.state.take_response_url(request.id, self.now())
        if url and self.delivery.respond_now(
            url, {**body, "response_type": "in_channel", "replace_original": bool(flags.get("via_url"))},
            request_id=request.id, replace_if_lost=True,
        ):
            flags["via_url"], flags["fp"] = True, fingerprint
            return
        if url and flags.get("via_url"):
            # Only this URL can replace what it posted: try again later (its uses bound the retries)
            # rather than leave that message behind, still saying "not confirmed yet".
            raise NotDelivered("response_url replacement failed")
        self._post_result(request, body, flags)

    def _post_result(self, request: TransferRequest, body: dict[str, Any], flags: dict[str, Any]) -> None:
        origin = decode_origin(request.origin, request.requester_id)
        channel = origin.channel or request.requester_id  # no channel: the requester's DM
        try:
            posted = self._post(channel, body, request.id, flags, "result")
        except NotDelivered as error:
            # Not in the channel (or it's gone): the requester still learns the outcome.
            log.info("result for request %s can't go to %s (%s); telling the requester", request.id, channel,
                     error.reason)
            self._tell_requester(request, {**body, "response_type": "ephemeral"})
            flags["fp"] = _fingerprint(body)
            return
        self.store.set_message_ref(request.id, MessageRef(posted.channel, posted.ts).encode())
        flags["fp"] = _fingerprint(body)

    # ---- shared ----------------------------------------------------------------------------------

    def _update_if_changed(self, ref: MessageRef, body: dict[str, Any], flags: dict[str, Any], request_id: str) -> None:
        fingerprint = _fingerprint(body)
        if flags.get("fp") == fingerprint:
            return
        self.delivery.update(ref.channel, ref.ts, body, request_id=request_id)
        flags["fp"] = fingerprint

    def _tell_requester(self, request: TransferRequest, body: dict[str, Any]) -> None:
        origin = decode_origin(request.origin, request.requester_id)
        url = self.state.take_response_url(request.id, self.now())
        self.delivery.tell_user_now(request.requester_id, body, response_url=url, channel=origin.channel,
                                    request_id=request.id)

    def _break_glass(self, request: TransferRequest, flags: dict[str, Any]) -> None:
        origin = decode_origin(request.origin, request.requester_id)
        channel = self.approval_channel or origin.channel
        if channel:
            self._post(channel, break_glass_notice(request), request.id, flags, "break_glass")

    def _post(self, channel: str, body: dict[str, Any], request_id: str, flags: dict[str, Any], kind: str,
              thread_ts: str | None = None) -> Posted:
        """chat.postMessage; one whose landing couldn't be checked is looked for first by the next sync."""
        unsure = f"unsure_{kind}"
        try:
            posted = self.delivery.post(channel, body, request_id=request_id, kind=kind, thread_ts=thread_ts,
                                        posted_since=flags.get(unsure))
        except Ambiguous as error:
            if error.since is not None:
                flags.setdefault(unsure, error.since)
            raise
        flags.pop(unsure, None)
        return posted


def _even_if_it_fails(step: Callable[[], None], *, then: Callable[[], None]) -> None:
    """step, then `then`; `then` runs even when step couldn't reach Slack (a later sync redoes step).

    An edit of a message that failed must not hold back the requester's answer."""
    try:
        step()
    except (NotDelivered, Ambiguous):
        then()
        raise
    then()


def _names_a_number(request: TransferRequest) -> bool:
    if request.target is not None:
        return request.target.kind is TargetKind.NUMBER
    return request.ask.target.startswith(NUMBER)


class _Later(Exception):
    """Nothing to show yet; look again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
