"""`GenesysPort` over the official SDK, `PureCloudPlatformClientV2`, configured on purpose.

What the SDK does by default and why we don't let it (docs/genesys-facts.md §4, §5):

* `Configuration` is a process-wide singleton whose `host` can come from a config file, so the
  `ApiClient` gets its host explicitly and ignores any gateway from that file.
* The default HTTP client re-sends POSTs and has no timeouts; `GuardedHttpClient` (no retries, a
  deadline per attempt, bounded bodies) is injected and `run()` decides what may be retried.
  A POST is never re-sent once it may have reached Genesys.
* Client-credentials tokens are never refreshed by the SDK; `TokenProvider` does it.
* `ApiClient.last_response` is shared by all threads; each attempt records its own answer.
* SDK logging can include bodies (PII) and headers; it is switched off for good.

This module holds the request loop; the per-endpoint work is in bot/genesys/operations.
Importing it imports the SDK (~2 s, ~220 MB): BackgroundGenesys does that off the start-up path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from PureCloudPlatformClientV2 import AnalyticsApi, ConversationsApi, RoutingApi, UsersApi
from PureCloudPlatformClientV2.api_client import ApiClient
from PureCloudPlatformClientV2.configuration import Configuration
from PureCloudPlatformClientV2.logger import LogLevel

from bot.domain.conversation import Conversation, GenesysUser, LiveInteraction, Media, Queue, QueueHealth
from bot.domain.target import Target
from bot.genesys import failures
from bot.genesys.http import Attempt, GuardedHttpClient, HttpStatusError, TransportFailure
from bot.genesys.operations import conversations, routing, users
from bot.genesys.ratelimit import PriorityRateLimiter, budget_key
from bot.genesys.telemetry import RequestMeter
from bot.genesys.tokens import TokenProvider
from bot.genesys.wire import header_value, parse_retry_after
from bot.ports.genesys import GenesysRateLimited, Priority, QueuePage
from bot.ports.store import RateBudget
from bot.ports.urgency import yield_to_awaited

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# A 429 without Retry-After: wait this long before the (budgeted) retry.
DEFAULT_429_WAIT = 1.0
# Never freeze the whole bot for longer than this on one Retry-After, whatever the server says.
MAX_PAUSE = 60.0
# GETs only: pause before the single retry after a connection error or 502/503/504.
GET_RETRY_BACKOFF = 0.3
_TRANSIENT_STATUSES = frozenset({502, 503, 504})


def _silence_sdk_logging() -> None:
    """The SDK logger can emit headers and bodies (PII) if a config file turns it on. Never."""
    logging.getLogger("PureCloudPlatformClientV2").disabled = True
    sdk_logger = Configuration().logger
    sdk_logger.log_request_body = False
    sdk_logger.log_response_body = False
    sdk_logger.log_level = LogLevel.LNone


@dataclass(frozen=True)
class Apis:
    """The SDK API classes, all bound to our ApiClient."""

    conversations: ConversationsApi
    routing: RoutingApi
    users: UsersApi
    analytics: AnalyticsApi


@dataclass(frozen=True)
class Reply(Generic[R]):
    value: R
    correlation_id: str | None


@dataclass
class _Retries:
    auth: bool = False
    transient: bool = False
    count_429: int = 0
    waited_429: float = 0.0


def _identity(value: Any) -> Any:
    return value


class SdkGenesysClient:
    """Thread-safe `GenesysPort`: pacing, token renewal, safe retries, a deadline, metrics."""

    def __init__(
        self,
        api_base: str,
        login_base: str,
        client_id: str,
        client_secret: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        request_deadline: float = 15.0,
        rate_limit_per_minute: float = 300,
        rate_burst: int = 10,
        max_429_retries: int = 3,
        max_429_wait: float = 20.0,
        pool_size: int = 32,
        acquire_timeout: float = 30.0,
        background_acquire_timeout: float = 5.0,
        rate_budget: RateBudget | None = None,
    ) -> None:
        _silence_sdk_logging()
        self.request_deadline = request_deadline
        self.max_429_retries = max_429_retries
        self.max_429_wait = max_429_wait
        self.acquire_timeout = acquire_timeout
        # Background reads give up sooner: under a burst they would only delay someone's answer.
        self.background_acquire_timeout = background_acquire_timeout

        self._meter = RequestMeter()
        self._http = GuardedHttpClient(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            default_deadline=request_deadline,
            pool_size=pool_size,
            meter=self._meter,
        )
        self._limiter = PriorityRateLimiter(
            rate_limit_per_minute,
            rate_burst,
            budget=rate_budget,
            budget_key=budget_key(client_id) if rate_budget is not None else None,
        )
        self._tokens = TokenProvider(self._http, login_base, client_id, client_secret, deadline=request_deadline)
        # host passed explicitly: Configuration().host is process-wide and file-overridable.
        self._api = ApiClient(host=api_base.rstrip("/"))
        self._api.gateway_configuration = None  # a config-file gateway must not redirect us
        self._api.set_http_client(self._http)
        self.apis = Apis(
            conversations=ConversationsApi(self._api),
            routing=RoutingApi(self._api),
            users=UsersApi(self._api),
            analytics=AnalyticsApi(self._api),
        )

    def __repr__(self) -> str:
        return f"SdkGenesysClient(api_base={self._api.host!r})"

    # -- GenesysPort --------------------------------------------------------------------------

    def get_conversation(self, conversation_id: str, *, priority: Priority = Priority.CRITICAL) -> Conversation:
        """Voice first (no permission needed), the generic read only to learn another media."""
        return conversations.get_conversation(self, conversation_id, priority)

    def list_queues(self, *, name: str | None = None, page: int = 1, page_size: int = 100) -> QueuePage:
        """One page: the service pages lazily and caches."""
        return routing.list_queues(self, name=name, page=page, page_size=page_size)

    def get_queue(self, queue_id: str) -> Queue:
        """Validate a typed queue id."""
        return routing.get_queue(self, queue_id)

    def transfer(self, conversation_id: str, participant_id: str, target: Target) -> str | None:
        """The one blind-transfer POST for the target's kind; returns its correlation id."""
        return conversations.transfer(self, conversation_id, participant_id, target)

    def find_user_by_email(self, email: str) -> GenesysUser | None:
        """Map a Slack user to a Genesys user."""
        return users.find_user_by_email(self, email)

    def get_user(self, user_id: str) -> GenesysUser:
        """A target agent: active, has a station, routing status (best effort)."""
        return users.get_user(self, user_id)

    def live_interactions(self, user_id: str) -> list[LiveInteraction]:
        """What an agent is on right now, to find "my call" without an id."""
        return users.live_interactions(self, user_id)

    def queue_health(
        self, queue_ids: Sequence[str], *, priority: Priority = Priority.BACKGROUND
    ) -> dict[str, QueueHealth]:
        """Agents available and conversations waiting, one request per 100 queues."""
        return routing.queue_health(self, queue_ids, priority)

    def estimated_wait(
        self, queue_id: str, media: Media | None = None, *, priority: Priority = Priority.BACKGROUND
    ) -> float | None:
        """Genesys' estimate in seconds, None when it has none."""
        return routing.estimated_wait(self, queue_id, media, priority)

    def check_access(self) -> None:
        """Readiness: a token can be had (raises the login's GenesysError otherwise)."""
        self._tokens.get()

    # -- diagnostics --------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Request counters (every HTTP attempt, retries and logins included)."""
        return self._meter.stats()

    @property
    def limiter(self) -> PriorityRateLimiter:
        return self._limiter

    @property
    def token_provider(self) -> TokenProvider:
        return self._tokens

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    # -- the request loop ---------------------------------------------------------------------

    def run(
        self,
        operation: str,
        call: Callable[[], T],
        *,
        subject: str,
        method: Literal["GET", "POST"] = "GET",
        write: bool = False,
        priority: Priority = Priority.CRITICAL,
        expect_body: bool = True,
        read: Callable[[T], R] = _identity,
    ) -> Reply[R]:
        """Run one SDK call with pacing, a fresh token, a deadline and the retry policy.

        Retries that are safe because nothing executed: one after a 401 (new token) and a
        bounded number after 429s. GETs also get one retry after a connection error or
        502/503/504. A POST is never re-sent once it may have reached Genesys. `read` turns the
        SDK model into a domain value inside the guard, so a malformed answer is unreadable.
        """
        ctx = failures.Context(operation, subject, write)
        retries = _Retries()
        while True:
            self._pace(priority, ctx)
            token = self._tokens.get()
            attempt = Attempt(
                operation, time.monotonic() + self.request_deadline, bearer=token, expect_body=expect_body
            )
            self._api.access_token = token  # the SDK reads it; the bound attempt decides what is sent
            self._http.bind(attempt)
            try:
                return Reply(read(call()), attempt.correlation_id)
            except Exception as error:
                pause = self._retry_pause(error, attempt, method, ctx, retries)
                if pause is None:
                    raise failures.to_port_error(error, attempt, ctx, auth_retried=retries.auth) from None
            finally:
                self._http.bind(None)
            if pause > 0:
                time.sleep(pause)

    def _pace(self, priority: Priority, ctx: failures.Context) -> None:
        limit = self.acquire_timeout if priority is Priority.CRITICAL else self.background_acquire_timeout
        yield_to_awaited()  # Slack acks in flight go first (bounded; see bot.ports.urgency)
        started = time.monotonic()
        granted = self._limiter.acquire(priority, timeout=limit)
        self._meter.waited(time.monotonic() - started)
        if not granted:
            raise GenesysRateLimited(
                "Too many Genesys requests are queued in the bot right now; try again shortly.",
                operation=ctx.operation,
            )

    def _retry_pause(
        self, error: Exception, attempt: Attempt, method: str, ctx: failures.Context, retries: _Retries
    ) -> float | None:
        """Seconds to sleep before retrying `error`, or None to give up."""
        if isinstance(error, HttpStatusError):
            status = int(error.status or 0)
            if status == 401 and not retries.auth:
                # Nothing executed. Drop exactly the token that was refused; log in again.
                retries.auth = True
                self._tokens.invalidate(attempt.sent_authorization or attempt.bearer)
                return 0.0
            if status == 429:
                return self._after_429(error, retries)
            if method == "GET" and status in _TRANSIENT_STATUSES and not retries.transient:
                retries.transient = True
                return GET_RETRY_BACKOFF
            return None
        if isinstance(error, TransportFailure) and method == "GET" and not retries.transient:
            cause = failures.transport_cause(error, attempt.sent or error.phase == "body")
            if cause in failures.RETRYABLE_CAUSES:
                log.info("Retrying Genesys %s once after %s on %s", ctx.operation, cause, error.host)
                retries.transient = True
                return GET_RETRY_BACKOFF
        return None

    def _after_429(self, error: HttpStatusError, retries: _Retries) -> float | None:
        """A 429 means Genesys did not execute the request: safe to retry, even a POST, within budget."""
        retry_after = parse_retry_after(header_value(error.headers, "Retry-After"))
        wait = retry_after if retry_after is not None else DEFAULT_429_WAIT
        self._limiter.pause_for(min(wait, MAX_PAUSE))  # everyone here waits, not just this thread
        if retries.count_429 < self.max_429_retries and retries.waited_429 + wait <= self.max_429_wait:
            retries.count_429 += 1
            retries.waited_429 += wait
            return 0.0  # the limiter's pause does the waiting
        return None
