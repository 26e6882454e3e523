"""Every message to Slack goes through here: its own small pool, short timeouts, bounded retries.

Why not slack_sdk's retry handlers: `ConnectionErrorRetryHandler` re-sends a chat.postMessage
after a dropped connection, when Slack may already have recorded it — two approval messages
for one request, one of whose buttons never update. Here a post that may have landed is
looked up first (by the `metadata` we attach) and only re-sent if Slack doesn't have it.
Everything else that is safe to repeat (updates, views, response_urls after a refusal) is
retried with backoff, honouring Retry-After, within a deadline; a delivery that still fails
is logged with the request id and moves on to the next route (response_url → ephemeral → DM).
"""

from __future__ import annotations

import logging
import time
import urllib.error
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.ops.metrics import SLACK_DELIVERIES

log = logging.getLogger(__name__)
METADATA_EVENT = "transfer_bot_message"
RETRYABLE_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


class Ambiguous(Exception):
    """The request may have reached Slack; the answer was lost.

    `since` (a post whose landing couldn't be checked): pass it back as `posted_since` on the
    next attempt, so that attempt looks for the message before posting again.
    """

    def __init__(self, reason: str, *, since: float | None = None) -> None:
        super().__init__(reason)
        self.since = since


class NotDelivered(Exception):
    """Slack certainly did not act on it (refused, or never reached)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class SlackDelivery:
    def __init__(
        self,
        client: WebClient,
        *,
        workers: int = 4,
        attempts: int = 4,
        deadline_seconds: float = 20.0,
        max_retry_after: float = 10.0,
        response_url_ok: Callable[[str], bool] = lambda url: True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.attempts = attempts
        self.deadline = deadline_seconds
        self.max_retry_after = max_retry_after
        self.response_url_ok = response_url_ok
        self._sleep = sleep
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-delivery")

    # ---- fire and forget (listeners) ---------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        def guarded() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:
                log.exception("slack delivery %s failed", getattr(fn, "__name__", fn))
                return None

        return self._pool.submit(guarded)

    def respond(self, response_url: str, body: dict[str, Any], *, request_id: str | None = None) -> None:
        self.submit(self.respond_now, response_url, body, request_id=request_id)

    def tell_user(self, user: str, body: dict[str, Any], *, response_url: str | None = None,
                  channel: str | None = None, request_id: str | None = None) -> None:
        self.submit(self.tell_user_now, user, body, response_url=response_url, channel=channel, request_id=request_id)

    # ---- synchronous (the reconciler's pool and the listeners' view calls) --------------------

    def respond_now(self, response_url: str, body: dict[str, Any], *, request_id: str | None = None,
                    replace_if_lost: bool = False) -> bool:
        """False when it certainly or possibly did not land. replace_if_lost (a command's own result):
        after a lost answer, send it again as a replacement of itself, so it can't show twice."""
        if not self.response_url_ok(response_url):
            log.warning("refusing to post to a response_url outside Slack (request %s)", request_id)
            return False
        try:
            self._retrying("response_url", lambda: self._post_url(response_url, body), request_id)
            return True
        except Ambiguous as error:
            if replace_if_lost and not body.get("replace_original"):
                log.info("response_url answer lost for request %s (%s); replacing instead", request_id, error)
                return self.respond_now(response_url, {**body, "replace_original": True}, request_id=request_id)
            log.warning("response_url delivery failed for request %s: %s", request_id, error)
            return False
        except NotDelivered as error:
            log.warning("response_url delivery failed for request %s: %s", request_id, error)
            return False

    def tell_user_now(self, user: str, body: dict[str, Any], *, response_url: str | None = None,
                      channel: str | None = None, request_id: str | None = None) -> str:
        """Try response_url, then an ephemeral message in the channel, then a DM. Returns the route used."""
        if response_url and self.respond_now(response_url, body, request_id=request_id):
            return "response_url"
        fields = {k: v for k, v in body.items() if k in ("text", "blocks")}
        if channel and not channel.startswith("D"):
            try:
                self.call("chat_postEphemeral", request_id, channel=channel, user=user, **fields)
                return "ephemeral"
            except (NotDelivered, Ambiguous) as error:
                log.info("ephemeral to %s in %s failed (%s); sending a DM (request %s)", user, channel, error,
                         request_id)
        try:
            self.post(user, fields, request_id=request_id, kind="dm")
            return "dm"
        except (NotDelivered, Ambiguous) as error:
            log.error("could not reach user %s by any route for request %s: %s", user, request_id, error)
            return "none"

    def post(self, channel: str, body: dict[str, Any], *, request_id: str | None, kind: str,
             thread_ts: str | None = None, posted_since: float | None = None) -> Posted:
        """chat.postMessage, at most once: after a lost answer, look for our message before re-sending.

        If Slack can't be asked whether it has the message, nothing is re-sent: Ambiguous(since=…)
        is raised, and the caller's next attempt passes it as `posted_since` to look first.
        """
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"request_id": request_id or "", "kind": kind}}
        args = {"channel": channel, "metadata": metadata, **body}
        if thread_ts:
            args["thread_ts"] = thread_ts
        if posted_since is not None:
            found = self._find_posted(channel, posted_since, request_id, kind, thread_ts)
            if found is not None:
                log.info("an earlier chat.postMessage whose answer was lost did land (request %s)", request_id)
                return found
        started = posted_since if posted_since is not None else time.time()
        for attempt in range(2):
            try:
                response = self.call("chat_postMessage", request_id, **args)
                return Posted(response["channel"], response["ts"])
            except Ambiguous as error:
                found = self._find_posted(channel, started, request_id, kind, thread_ts)
                if found is not None:
                    log.info("chat.postMessage answer was lost but Slack has it (request %s)", request_id)
                    return found
                if attempt == 1:
                    raise Ambiguous(str(error), since=started) from None
        raise AssertionError("unreachable")

    def update(self, channel: str, ts: str, body: dict[str, Any], *, request_id: str | None) -> None:
        self.call("chat_update", request_id, channel=channel, ts=ts, **body)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        return self._view("views_open", trigger_id=trigger_id, view=view)

    def push_view(self, trigger_id: str, view: dict[str, Any]) -> bool:
        return self._view("views_push", trigger_id=trigger_id, view=view)

    def publish_view(self, user: str, view: dict[str, Any], *, request_id: str | None = None) -> bool:
        """request_id: the request whose change this shows, for the logs."""
        try:
            self.call("views_publish", request_id, user_id=user, view=view)
            return True
        except (NotDelivered, Ambiguous) as error:
            log.warning("views.publish for %s failed: %s (request %s)", user, error, request_id)
            return False

    def _view(self, method: str, **kwargs: Any) -> bool:
        # trigger_ids live 3 s and work once: one attempt, no retries.
        try:
            self._once(method, kwargs)
            return True
        except (NotDelivered, Ambiguous) as error:
            log.warning("%s failed: %s", method.replace("_", "."), error)
            return False

    # ---- the retry loop ---------------------------------------------------------------------

    def call(self, method: str, request_id: str | None, **kwargs: Any) -> Any:
        return self._retrying(method, lambda: self._once(method, kwargs), request_id)

    def _retrying(self, label: str, attempt: Callable[[], Any], request_id: str | None) -> Any:
        deadline = time.monotonic() + self.deadline
        for n in range(1, self.attempts + 1):
            try:
                result = attempt()
                SLACK_DELIVERIES.labels(method=_name(label), result="ok").inc()
                return result
            except _Retry as retry:
                last = retry
                wait = retry.wait if retry.wait is not None else min(0.25 * 2**n, 4.0)
                if n == self.attempts or time.monotonic() + wait > deadline or retry.ambiguous:
                    break
                SLACK_DELIVERIES.labels(method=_name(label), result="retried").inc()
                log.info("slack %s failed (%s); retrying in %.2fs (request %s)", _name(label), retry.reason, wait,
                         request_id)
                self._sleep(wait)
            except NotDelivered:
                SLACK_DELIVERIES.labels(method=_name(label), result="failed").inc()
                raise
        SLACK_DELIVERIES.labels(method=_name(label), result="failed").inc()
        log.warning("slack %s gave up after %d attempt(s): %s (request %s)", _name(label), n, last.reason, request_id)
        if last.ambiguous:
            raise Ambiguous(last.reason)
        raise NotDelivered(last.reason)

    def _once(self, method: str, kwargs: dict[str, Any]) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            raise _classify_api_error(error, method) from None
        except urllib.error.URLError as error:  # raised before Slack read the request
            raise _Retry(f"network: {error.reason}", ambiguous=False) from None
        except (OSError, ValueError) as error:  # dropped or timed out after sending: may have landed
            raise _Retry(f"lost answer: {type(error).__name__}", ambiguous=method == "chat_postMessage") from None

    def _post_url(self, url: str, body: dict[str, Any]) -> None:
        webhook = WebhookClient(url, timeout=5, retry_handlers=[])
        try:
            response = webhook.send_dict(body)
        except urllib.error.URLError as error:
            raise _Retry(f"network: {error.reason}", ambiguous=False) from None
        except OSError as error:
            # A lost answer to a replacement is safe to retry (it replaces the same message again);
            # anything else may have shown, so the caller decides (see respond_now).
            raise _Retry(f"lost answer: {type(error).__name__}", ambiguous=not body.get("replace_original")) from None
        if response.status_code == 429:
            raise _Retry("ratelimited", wait=self._retry_after(response.headers))
        if response.status_code >= 500:
            raise _Retry(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise NotDelivered(f"HTTP {response.status_code}: {(response.body or '')[:100]}")

    def _retry_after(self, headers: Any) -> float:
        try:
            value = float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or 1)
        except (TypeError, ValueError):
            value = 1.0
        return min(max(value, 0.0), self.max_retry_after)

    def _find_posted(self, channel: str, since: float, request_id: str | None, kind: str,
                     thread_ts: str | None) -> Posted | None:
        try:
            if thread_ts:
                history = self._once("conversations_replies", {"channel": channel, "ts": thread_ts,
                                                               "oldest": f"{since - 5:.6f}", "limit": 100,
                                                               "include_all_metadata": True})
            else:
                history = self._once("conversations_history", {"channel": channel, "oldest": f"{since - 5:.6f}",
                                                               "limit": 100, "include_all_metadata": True})
        except (_Retry, NotDelivered) as error:
            # Not knowing is not "not there": re-sending now could post it twice.
            log.warning("could not check whether a lost post landed (request %s): %s; not re-sending it now",
                        request_id, error)
            raise Ambiguous(f"lookup failed: {error}", since=since) from None
        for message in history.get("messages") or []:
            payload = ((message.get("metadata") or {}).get("event_payload")) or {}
            if payload.get("request_id") == (request_id or "") and payload.get("kind") == kind:
                return Posted(history.get("channel") or channel, message["ts"])
        return None


class _Retry(Exception):
    def __init__(self, reason: str, *, wait: float | None = None, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.ambiguous = ambiguous


def _classify_api_error(error: SlackApiError, method: str) -> Exception:
    response = error.response
    code = response.get("error") if hasattr(response, "get") else None
    status = getattr(response, "status_code", 200)
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        try:
            wait = float(headers.get("Retry-After") or headers.get("retry-after") or 1)
        except (TypeError, ValueError):
            wait = 1.0
        return _Retry("ratelimited", wait=min(wait, 10.0))
    if status >= 500 or code in RETRYABLE_ERRORS:
        # A server error on a post may still have been recorded: look before posting again.
        return _Retry(code or f"HTTP {status}", ambiguous=method == "chat_postMessage")
    return NotDelivered(code or f"HTTP {status}")


def _name(label: str) -> str:
    return label.replace("_", ".", 1) if label != "response_url" else label
