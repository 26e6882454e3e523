"""`GenesysPort` implemented with the official SDK, `PureCloudPlatformClientV2`, configured on purpose.

What the SDK does by default and why we don't let it (docs/genesys-api.md §4.3-4.5, §5.5):

* `Configuration` is a process-wide singleton whose `host` can come from a config file, so the
  `ApiClient` gets its host explicitly and ignores any gateway from that file.
* The default HTTP client re-sends POSTs (10 retries) and has no timeouts; we inject
  `GuardedHttpClient` (no retries, explicit timeouts) and decide here, per method, what may be
  retried. A transfer POST is never replayed after it may have reached Genesys.
* Client-credentials tokens are never refreshed by the SDK; `TokenProvider` does it.
* `ApiClient.last_response` is shared by all threads; correlation ids come from the HTTP client's
  per-thread record instead.
* SDK logging can include bodies (PII) and headers; it is switched off for good.

Importing this module imports the SDK (~1.5-3 s, ~215 MB); the composition root does that in a
background thread so Slack start-up does not wait for it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import urllib3
from PureCloudPlatformClientV2 import ConversationsApi, RoutingApi, TransferToQueueRequest
from PureCloudPlatformClientV2.api_client import ApiClient
from PureCloudPlatformClientV2.configuration import Configuration
from PureCloudPlatformClientV2.logger import LogLevel
from PureCloudPlatformClientV2.rest import ApiException

from bot.domain.model import Call, Participant, Queue, RecentTransfer
from bot.domain.parsing import is_uuid
from bot.genesys.errors import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysError,
    GenesysForbidden,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
)
from bot.genesys.http import GuardedHttpClient, header_value
from bot.genesys.port import Priority
from bot.genesys.ratelimit import PriorityRateLimiter
from bot.genesys.tokens import TokenProvider

log = logging.getLogger(__name__)

T = TypeVar("T")

CORRELATION_HEADER = "ININ-Correlation-Id"
QUEUE_PAGE_SIZE = 100
MAX_QUEUE_PAGES = 50
# A 429 without Retry-After: wait this long before the (budgeted) retry.
DEFAULT_429_WAIT = 1.0
# Never freeze the whole bot for longer than this on one Retry-After, whatever the server says.
MAX_PAUSE = 60.0
# GETs only: pause before the single retry after a connection error or 502/503/504.
GET_RETRY_BACKOFF = 0.3

KINDS = ("get_call", "get_conversation", "find_queues", "get_queue", "transfer", "token")

# Which per-media list on a generic Participant means what, for the "not a call" message.
_MEDIA_FIELDS = {
    "calls": "voice call",
    "callbacks": "callback",
    "chats": "chat",
    "emails": "email",
    "messages": "message",
    "internal_messages": "internal message",
    "cobrowsesessions": "co-browse session",
    "screenshares": "screen share",
    "social_expressions": "social media",
    "videos": "video",
}


def _silence_sdk_logging() -> None:
    """The SDK logger can emit headers and bodies (PII) if a config file turns it on. Never."""
    logging.getLogger("PureCloudPlatformClientV2").disabled = True
    sdk_logger = Configuration().logger
    sdk_logger.log_request_body = False
    sdk_logger.log_response_body = False
    sdk_logger.log_level = LogLevel.LNone


class SdkGenesysClient:
    """Thread-safe `GenesysPort` over the official SDK with pacing, token renewal and safe retries."""

    def __init__(
        self,
        api_base: str,
        login_base: str,
        client_id: str,
        client_secret: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        rate_limit_per_minute: float = 300,
        rate_burst: int = 10,
        max_429_retries: int = 3,
        max_429_wait: float = 20.0,
        pool_size: int = 32,
        acquire_timeout: float = 30.0,
        background_acquire_timeout: float = 5.0,
    ) -> None:
        _silence_sdk_logging()
        self.max_429_retries = max_429_retries
        self.max_429_wait = max_429_wait
        self.acquire_timeout = acquire_timeout
        # Confirmation reads give up sooner: under a burst they would only delay the user's
        # answer, and "accepted, not yet confirmed" is an honest result.
        self.background_acquire_timeout = background_acquire_timeout

        self._stats_lock = threading.Lock()
        self._by_kind: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._requests = 0
        self._received_429 = 0

        self._http = GuardedHttpClient(connect_timeout=connect_timeout, read_timeout=read_timeout, pool_size=pool_size)
        self._limiter = PriorityRateLimiter(rate_limit_per_minute, rate_burst)
        self._tokens = TokenProvider(
            self._http,
            login_base,
            client_id,
            client_secret,
            on_request=lambda: self._count("token"),
        )
        # host passed explicitly: Configuration().host is process-wide and file-overridable.
        self._api = ApiClient(host=api_base.rstrip("/"))
        self._api.gateway_configuration = None  # a config-file gateway must not redirect us
        self._api.set_http_client(self._http)
        self._conversations = ConversationsApi(self._api)
        self._routing = RoutingApi(self._api)

    def __repr__(self) -> str:
        return f"SdkGenesysClient(api_base={self._api.host!r})"

    # -- GenesysPort --------------------------------------------------------------------------

    def get_call(self, conversation_id: str, *, priority: Priority = Priority.CRITICAL) -> Call:
        try:
            conv, _ = self._execute(
                "get_call",
                lambda: self._conversations.get_conversations_call(conversation_id),
                priority=priority,
                subject=f"call {conversation_id}",
            )
        except GenesysNotFound as not_found:
            raise self._explain_not_found(conversation_id, not_found, priority) from None
        return _to_call(conv, conversation_id)

    def find_queues(self, name: str | None) -> list[Queue]:
        queues: list[Queue] = []
        page = 1
        while True:
            kwargs: dict[str, Any] = {"page_number": page, "page_size": QUEUE_PAGE_SIZE}
            if name is not None:
                kwargs["name"] = name
            listing, _ = self._execute(
                "find_queues",
                lambda kw=kwargs: self._routing.get_routing_queues(**kw),
                subject="queues" if name is None else f"queues named {name!r}",
            )
            entities = list(getattr(listing, "entities", None) or [])
            queues.extend(_to_queue(q) for q in entities)
            page_count = getattr(listing, "page_count", None)
            if not entities:
                break
            if page_count is not None:
                if page >= page_count:
                    break
            elif len(entities) < QUEUE_PAGE_SIZE:
                break
            if page >= MAX_QUEUE_PAGES:
                log.warning("Stopped listing Genesys queues after %d pages (%d queues)", page, len(queues))
                break
            page += 1
        return queues

    def get_queue(self, queue_id: str) -> Queue:
        queue, _ = self._execute(
            "get_queue",
            lambda: self._routing.get_routing_queue(queue_id),
            subject=f"queue {queue_id}",
        )
        return _to_queue(queue)

    def replace_with_queue(self, conversation_id: str, participant_id: str, queue_id: str) -> str | None:
        # The SDK quotes path parameters with safe='/', so only strict UUIDs may reach the path.
        for what, value in (("conversation", conversation_id), ("participant", participant_id), ("queue", queue_id)):
            if not is_uuid(value):
                raise GenesysBadRequest(f"refusing to send a transfer with an invalid {what} id {value!r}")
        body = TransferToQueueRequest()  # SDK models take no constructor kwargs
        body.queue_id = queue_id
        # transfer_type left unset: the server default is Unattended (a blind transfer), and an
        # invalid string would be silently serialised as "outdated_sdk_version".
        _, headers = self._execute(
            "transfer",
            lambda: self._conversations.post_conversation_participant_replace_queue(
                conversation_id, participant_id, body
            ),
            write=True,
            subject=f"the transfer of call {conversation_id}",
        )
        return header_value(headers, CORRELATION_HEADER)

    # -- diagnostics --------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Request counters (every HTTP attempt, retries and logins included)."""
        with self._stats_lock:
            return {
                "requests": self._requests,
                "by_kind": dict(self._by_kind),
                "received_429": self._received_429,
            }

    @property
    def limiter(self) -> PriorityRateLimiter:
        return self._limiter

    @property
    def token_provider(self) -> TokenProvider:
        return self._tokens

    def close(self) -> None:
        self._http.close()

    # -- the request loop ---------------------------------------------------------------------

    def _count(self, kind: str, *, got_429: bool = False) -> None:
        with self._stats_lock:
            if got_429:
                self._received_429 += 1
                return
            self._requests += 1
            self._by_kind[kind] = self._by_kind.get(kind, 0) + 1

    def _execute(
        self,
        kind: str,
        call: Callable[[], T],
        *,
        write: bool = False,
        priority: Priority = Priority.CRITICAL,
        subject: str,
    ) -> tuple[T, Mapping[str, str] | None]:
        """Run one SDK call with pacing, a fresh token and the retry policy for its method.

        Retries that are always safe because the request certainly did not execute: one after a
        401 (with a new token) and a bounded number after 429s. GETs additionally get one retry
        after a connection error or 502/503/504. A write is never re-sent once it may have
        reached Genesys.
        """
        auth_retried = False
        transient_retried = False
        retries_429 = 0
        waited_429 = 0.0
        while True:
            wait_limit = self.acquire_timeout if priority is Priority.CRITICAL else self.background_acquire_timeout
            if not self._limiter.acquire(priority, timeout=wait_limit):
                raise GenesysRateLimited(
                    "Too many Genesys requests are queued in the bot right now; try again shortly.",
                    retry_after=None,
                )
            token = self._tokens.get()
            # One process-wide token: every thread writes the same current value. The HTTP client
            # additionally sends exactly this thread's token (see GuardedHttpClient.begin), which
            # closes the window where another thread swaps the shared attribute mid-request.
            self._api.access_token = token
            self._http.begin(token)
            self._count(kind)
            try:
                result = call()
                return result, self._http.last_headers()
            except ApiException as exc:
                status = exc.status or 0
                if status == 401 and not auth_retried:
                    # Nothing executed. Drop exactly the token that was refused, log in again.
                    auth_retried = True
                    self._tokens.invalidate(self._http.last_authorization() or token)
                    continue
                if status == 429:
                    self._count(kind, got_429=True)
                    retry_after = _retry_after(exc.headers)
                    wait = retry_after if retry_after is not None else DEFAULT_429_WAIT
                    self._limiter.pause_for(min(wait, MAX_PAUSE))
                    if retries_429 < self.max_429_retries and waited_429 + wait <= self.max_429_wait:
                        # A 429 means Genesys did not execute the request: safe even for a POST.
                        retries_429 += 1
                        waited_429 += wait
                        continue
                    raise _map_api_exception(exc, write=write, subject=subject) from None
                if not write and not transient_retried and status in (502, 503, 504):
                    transient_retried = True
                    time.sleep(GET_RETRY_BACKOFF)
                    continue
                raise _map_api_exception(exc, write=write, subject=subject, auth_retried=auth_retried) from None
            except urllib3.exceptions.HTTPError as exc:
                if not write and not transient_retried and _is_retryable_transport(exc):
                    transient_retried = True
                    time.sleep(GET_RETRY_BACKOFF)
                    continue
                raise _map_transport_error(exc, write=write, subject=subject) from None
            except GenesysError:
                raise
            except Exception as exc:  # SDK deserialisation surprises etc.: never leak SDK types
                log.warning("Unexpected %s from the Genesys SDK during %s", type(exc).__name__, kind)
                raise GenesysError(
                    f"Unexpected problem talking to Genesys about {subject} ({type(exc).__name__}).",
                    maybe_executed=write,
                ) from None

    def _explain_not_found(
        self, conversation_id: str, not_found: GenesysNotFound, priority: Priority
    ) -> GenesysNotFound:
        """A 404 on /conversations/calls/{id} may mean "exists, but is not a voice call"."""
        try:
            conv, _ = self._execute(
                "get_conversation",
                lambda: self._conversations.get_conversation(conversation_id),
                priority=priority,
                subject=f"conversation {conversation_id}",
            )
        except GenesysError:
            # Not found at all, or not allowed to look (conversation:communication:view is a
            # separate permission): the original 404 is the honest answer.
            return not_found
        media = _media_of(conv)
        if "voice call" in media:
            return not_found
        described = " and ".join(sorted(media)) if media else "non-voice"
        article = "an" if described[:1] in "aeiou" else "a"
        return GenesysNotFound(
            f"Conversation {conversation_id} is {article} {described} conversation, not a voice "
            "call; only voice calls can be transferred here.",
            status=404,
            code="not.a.call",
            correlation_id=not_found.correlation_id,
        )


# -- mapping Genesys models to the domain ------------------------------------------------------


def _ref_id(ref: Any) -> str | None:
    return getattr(ref, "id", None) if ref is not None else None


def _to_participant(p: Any) -> Participant:
    return Participant(
        id=p.id,
        purpose=p.purpose or "",
        state=p.state or "",
        name=p.name,
        user_id=_ref_id(p.user),
        queue_id=_ref_id(p.queue),
        start_time=p.start_time,
        connected_time=p.connected_time,
        end_time=p.end_time,
        held=bool(p.held),
    )


def _to_recent_transfer(t: Any) -> RecentTransfer:
    destination = getattr(t, "destination", None)
    # TransferDestination has only userId/address; for a queue transfer the address is
    # assumed to carry the queue id (undocumented), so only a UUID-looking address is used.
    address = getattr(destination, "address", None) if destination is not None else None
    queue_id = address if isinstance(address, str) and _looks_like_uuid(address) else None
    return RecentTransfer(id=t.id, state=t.state or "", queue_id=queue_id, date_issued=t.date_issued)


def _to_call(conv: Any, conversation_id: str) -> Call:
    participants = tuple(_to_participant(p) for p in (conv.participants or []))
    transfers = tuple(_to_recent_transfer(t) for t in (conv.recent_transfers or []))
    return Call(id=conv.id or conversation_id, participants=participants, recent_transfers=transfers)


def _to_queue(q: Any) -> Queue:
    division = getattr(q, "division", None)
    return Queue(
        id=q.id,
        name=q.name or "",
        division_id=getattr(division, "id", None) if division is not None else None,
        division_name=getattr(division, "name", None) if division is not None else None,
    )


def _media_of(conv: Any) -> set[str]:
    media: set[str] = set()
    for p in getattr(conv, "participants", None) or []:
        for field, label in _MEDIA_FIELDS.items():
            if getattr(p, field, None):
                media.add(label)
    return media


def _looks_like_uuid(value: str) -> bool:
    parts = value.split("-")
    return [len(x) for x in parts] == [8, 4, 4, 4, 12] and all(c in "0123456789abcdefABCDEF" for c in "".join(parts))


# -- mapping failures ----------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    raw = header_value(headers, "Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_body(exc: ApiException) -> dict[str, Any]:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _map_api_exception(exc: ApiException, *, write: bool, subject: str, auth_retried: bool = False) -> GenesysError:
    status = exc.status or 0
    body = _error_body(exc)
    code = _str_or_none(body.get("code"))
    detail = _str_or_none(body.get("message"))
    correlation_id = header_value(exc.headers, CORRELATION_HEADER) or _str_or_none(body.get("contextId"))
    said = f" Genesys said: {detail}" if detail else ""
    common: dict[str, Any] = {"status": status, "code": code, "correlation_id": correlation_id}

    if status == 401:
        return GenesysAuthError(
            "Genesys refused the bot's access token"
            + (" even after a fresh login" if auth_retried else "")
            + "; check the OAuth client (revoked, wrong region or org?)."
            + said,
            **common,
        )
    if status == 403:
        return GenesysForbidden(
            f"The bot's Genesys OAuth client is not allowed to access {subject} "
            "(missing role permission or division)." + said,
            **common,
        )
    if status == 404:
        return GenesysNotFound(
            f"Genesys could not find {subject} (it may not exist or not be visible to the bot)." + said,
            **common,
        )
    if status == 429:
        return GenesysRateLimited(
            f"Genesys is rate-limiting the bot; {subject} could not be done right now. Try again in a moment.",
            retry_after=_retry_after(exc.headers),
            **common,
        )
    if status in (400, 409, 422) or 400 <= status < 500:
        return GenesysBadRequest(f"Genesys refused {subject}." + said, **common)
    if status >= 500:
        if write:
            return GenesysUnavailable(
                f"Genesys had a server error (HTTP {status}) during {subject}; it may or may not "
                "have happened. Check the call before trying again." + said,
                maybe_executed=True,
                **common,
            )
        return GenesysUnavailable(
            f"Genesys had a server error (HTTP {status}) while reading {subject}." + said,
            **common,
        )
    return GenesysError(f"Unexpected answer from Genesys (HTTP {status}) for {subject}.", **common)


def _is_connect_phase(exc: urllib3.exceptions.HTTPError) -> bool:
    """True when the request certainly never left this process (nothing can have executed)."""
    return isinstance(
        exc,
        urllib3.exceptions.NewConnectionError
        | urllib3.exceptions.ConnectTimeoutError
        | urllib3.exceptions.EmptyPoolError
        | urllib3.exceptions.SSLError
        | urllib3.exceptions.LocationParseError,
    )


def _is_retryable_transport(exc: urllib3.exceptions.HTTPError) -> bool:
    # A read timeout already cost the user read_timeout seconds: not worth doubling.
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return False
    return _is_connect_phase(exc) or isinstance(exc, urllib3.exceptions.ProtocolError)


def _map_transport_error(exc: urllib3.exceptions.HTTPError, *, write: bool, subject: str) -> GenesysError:
    maybe_executed = write and not _is_connect_phase(exc)
    tail = " It may or may not have happened. Check the call before trying again." if maybe_executed else ""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return GenesysUnavailable(f"Could not connect to Genesys for {subject}.", maybe_executed=False)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.EmptyPoolError):
        return GenesysTimeout(f"Timed out connecting to Genesys for {subject}.", maybe_executed=False)
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return GenesysTimeout(f"Genesys did not answer in time for {subject}." + tail, maybe_executed=maybe_executed)
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return GenesysUnavailable(
            f"The connection to Genesys dropped during {subject}." + tail,
            maybe_executed=maybe_executed,
        )
    return GenesysUnavailable(
        f"Network problem talking to Genesys about {subject} ({type(exc).__name__})." + tail,
        maybe_executed=maybe_executed,
    )
