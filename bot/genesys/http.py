"""The HTTP client injected into the Genesys SDK: no retries of its own, a deadline, bounded bodies.

The SDK's default client (rest.py) re-sends POSTs up to 10 times after a dropped connection or a
429/503 with Retry-After, and passes no timeout to urllib3 (docs/genesys-facts.md §5). A repeated
transfer POST can act on the *new* holder of the call, so this client is injected with
`ApiClient.set_http_client()` and:

* uses `retries=False`: failures surface at once and the adapter (client.py) decides, per
  method, what may be retried;
* enforces one deadline per attempt. urllib3's read timeout applies to each socket read, so a
  body dripped a byte at a time would never time out; the body is therefore read here in
  bounded steps, each with the socket timeout shrunk to what is left of the deadline;
* never reads more than MAX_ERROR_BODY of an error body (or MAX_BODY of a good one), and
  refuses a 2xx whose body is not JSON instead of letting the SDK build an empty model from it;
* records each attempt's outcome (status, headers, what token was sent) on an `Attempt` the
  caller binds to its thread: `ApiClient.last_response` is shared by every thread;
* counts every attempt in the request meter (Prometheus and `stats()`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from PureCloudPlatformClientV2.abstract_http_client import AbstractHttpClient
from PureCloudPlatformClientV2.http_request_options import HttpRequestOptions
from PureCloudPlatformClientV2.rest import ApiException, RESTResponse
from urllib3.connection import HTTPConnection, HTTPSConnection

from bot.genesys.telemetry import RequestMeter
from bot.genesys.wire import CORRELATION_HEADER, MAX_ERROR_BODY, ErrorInfo, header_value, parse_error_body

log = logging.getLogger(__name__)
MAX_BODY = 16 << 20  # a good answer larger than this is refused (a queue page is ~100 KB)
_READ_STEP = 64 << 10
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "OPTIONS"})
_QUERY_METHODS = frozenset({"GET", "HEAD", "DELETE"})


@dataclass
class Attempt:
    """One HTTP attempt: what the caller wants (operation, deadline, token) and what happened."""

    operation: str
    deadline: float  # time.monotonic() by which the whole answer must be in
    bearer: str | None = None
    expect_body: bool = False  # a 2xx without a body is unreadable (every GET here has one)
    host: str | None = None
    sent: bool = False  # request bytes started to leave: Genesys may have acted on it
    sent_authorization: str | None = None
    status: int | None = None
    headers: Mapping[str, Any] | None = None

    @property
    def correlation_id(self) -> str | None:
        return header_value(self.headers, CORRELATION_HEADER)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class BoundedResponse(RESTResponse):
    """What the SDK reads from a response (status, reason, data, headers), body already read."""

    def __init__(self, status: int, reason: str | None, data: str, headers: Mapping[str, Any]) -> None:
        io_init = super(RESTResponse, self).__init__  # io.IOBase: RESTResponse's own __init__ reads the body
        io_init()
        self.urllib3_response = None
        self.status = status
        self.reason = reason
        self.data = data
        self._headers = headers

    def getheaders(self) -> Mapping[str, Any]:
        return self._headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        value = header_value(self._headers, name)
        return default if value is None else value


class HttpStatusError(ApiException):
    """A complete non-2xx answer. `body` is cut short; `error` is the parsed ErrorBody."""

    def __init__(self, response: BoundedResponse, error: ErrorInfo) -> None:
        super().__init__(http_resp=response)
        # Keep nothing big: ApiException.__str__ prints `body`, and `args` would hold the response.
        self.args = (f"HTTP {response.status}",)
        self.body = response.data[:2000]
        self.error = error


class TransportFailure(Exception):
    """No complete answer: a urllib3 failure, or the deadline passed.

    `phase`: "before" (nothing sent), "request" (sending or waiting for the headers) or "body"
    (the status line arrived, the body did not finish).
    """

    def __init__(self, host: str | None, phase: str, error: BaseException | None = None) -> None:
        super().__init__(f"{type(error).__name__ if error else 'deadline'} during {phase} with {host}")
        self.host = host
        self.phase = phase
        self.error = error


class UnreadableResponse(Exception):
    """A 2xx we can't read: not JSON, empty where a body was due, or far too large."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class GuardedHttpClient(AbstractHttpClient):
    """`AbstractHttpClient` with no automatic retries, a per-attempt deadline and bounded reads."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        default_deadline: float = 15.0,
        pool_size: int = 32,
        meter: RequestMeter | None = None,
        pool_manager: urllib3.PoolManager | None = None,
    ) -> None:
        super().__init__()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.default_deadline = default_deadline
        # The SDK's abstract `timeout` is in ms and unused by its own client; keep it truthful.
        self.timeout = int(default_deadline * 1000)
        self.meter = meter or RequestMeter()
        if pool_manager is None:
            pool_manager = urllib3.PoolManager(
                num_pools=4,
                maxsize=pool_size,
                block=True,  # a saturated pool waits (bounded by the deadline), never opens more
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )
            pool_manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        self.pool_manager = pool_manager
        self._local = threading.local()

    # -- per-thread binding -------------------------------------------------------------------

    def bind(self, attempt: Attempt | None) -> None:
        """Make `attempt` the one this thread's next SDK request reports to (None: unbind)."""
        self._local.attempt = attempt

    def _bound(self) -> Attempt:
        attempt = getattr(self._local, "attempt", None)
        if attempt is None:  # an SDK call outside client.py: still bounded and counted
            attempt = Attempt("other", time.monotonic() + self.default_deadline)
        return attempt

    # -- AbstractHttpClient -------------------------------------------------------------------

    def request(self, http_request_options: HttpRequestOptions) -> RESTResponse:
        """The SDK's entry point: send with the attempt bound to this thread."""
        if not isinstance(http_request_options, HttpRequestOptions):
            raise ValueError("httpRequestOptions must be an instance of HttpRequestOptions")
        options = http_request_options
        if self.pre_hook and callable(self.pre_hook):
            options = self.pre_hook(options)
        response = self.send(options, self._bound())
        if self.post_hook and callable(self.post_hook):
            response = self.post_hook(response)
        return response

    def send(self, options: HttpRequestOptions, attempt: Attempt) -> BoundedResponse:
        """One attempt: raises HttpStatusError, TransportFailure or UnreadableResponse."""
        method = options.method.upper()
        url, kwargs = self._prepare(options, method, attempt)
        attempt.host = urlsplit(url).hostname
        started = time.monotonic()
        try:
            status, reason, headers, data = self._exchange(method, url, kwargs, attempt)
        except TransportFailure:
            self._record(attempt, method, None, started)
            raise
        attempt.status = status
        attempt.headers = headers
        self._record(attempt, method, status, started)
        text = data.decode("utf-8", errors="replace")
        response = BoundedResponse(status, reason, text, headers)
        if not 200 <= status <= 205:  # the SDK's own success range (rest.py)
            raise HttpStatusError(response, parse_error_body(text))
        _check_readable(text, status, attempt, len(data) > MAX_BODY)
        return response

    def _record(self, attempt: Attempt, method: str, status: int | None, started: float) -> None:
        """One attempt ended: the metrics, and a DEBUG line with the fields a log search needs."""
        seconds = time.monotonic() - started
        self.meter.attempt(attempt.operation, status, seconds)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Genesys %s (%s): %s", attempt.operation, method, status or "no answer", extra={
                "operation": attempt.operation, "duration_ms": round(seconds * 1000, 1),
                "genesys_correlation_id": attempt.correlation_id if status is not None else None})

    def _prepare(self, options: HttpRequestOptions, method: str, attempt: Attempt) -> tuple[str, dict[str, Any]]:
        url: str = options.url
        headers: dict[str, Any] = dict(options.headers or {})
        query_params = options.query_params or {}
        post_params = options.post_params or {}
        body = options.body
        if post_params and body:
            raise ValueError("body parameter cannot be used with post_params parameter.")
        sent_auth = header_value(headers, "Authorization")
        if attempt.bearer and sent_auth is not None and sent_auth[:7].lower() == "bearer ":
            # ApiClient.access_token is one attribute shared by all threads: send exactly the
            # token this thread obtained, so a 401 invalidates the token that earned it.
            _drop_header(headers, "Authorization")
            headers["Authorization"] = "Bearer " + attempt.bearer
        attempt.sent_authorization = header_value(headers, "Authorization")
        content_type = header_value(headers, "Content-Type")
        if content_type is None:
            content_type = "application/json"
            headers["Content-Type"] = content_type

        kwargs: dict[str, Any] = {"headers": headers}
        if method in _BODY_METHODS:
            if query_params:
                url += "?" + urlencode(query_params)
            if content_type == "application/x-www-form-urlencoded":
                kwargs.update(fields=post_params, encode_multipart=False)
            elif content_type == "multipart/form-data":
                _drop_header(headers, "Content-Type")  # urllib3 adds it with the boundary
                kwargs.update(fields=post_params, encode_multipart=True)
            else:
                kwargs["body"] = json.dumps(body) if body is not None else None
        elif method in _QUERY_METHODS:
            if query_params:
                kwargs["fields"] = query_params
            if method == "DELETE" and body is not None:
                kwargs["body"] = json.dumps(body)
        else:
            raise ValueError(f"unsupported HTTP method {method!r}")
        return url, kwargs

    def _exchange(
        self, method: str, url: str, kwargs: dict[str, Any], attempt: Attempt
    ) -> tuple[int, str | None, Mapping[str, Any], bytes]:
        remaining = attempt.remaining()
        if remaining <= 0:
            raise TransportFailure(urlsplit(url).hostname, "before")
        timeout = urllib3.Timeout(connect=min(self.connect_timeout, remaining), read=min(self.read_timeout, remaining))
        _sending.attempt = attempt
        try:
            raw = self.pool_manager.request(
                method,
                url,
                preload_content=False,
                redirect=False,
                timeout=timeout,
                pool_timeout=remaining,
                **kwargs,
            )
        except urllib3.exceptions.HTTPError as error:
            raise TransportFailure(urlsplit(url).hostname, "request", error) from None
        finally:
            _sending.attempt = None
        status = int(raw.status)
        limit = MAX_BODY if 200 <= status < 300 else MAX_ERROR_BODY
        data = self._read_body(raw, attempt, limit, urlsplit(url).hostname)
        return status, raw.reason, raw.headers, data

    def _read_body(self, raw: urllib3.BaseHTTPResponse, attempt: Attempt, limit: int, host: str | None) -> bytes:
        """Read at most limit+1 bytes before the deadline, one socket read at a time."""
        chunks: list[bytes] = []
        total = 0
        complete = False
        try:
            while total <= limit:
                remaining = attempt.remaining()
                if remaining <= 0:
                    raise TransportFailure(host, "body")
                _shrink_socket_timeout(raw, min(self.read_timeout, remaining))
                chunk = raw.read1(min(_READ_STEP, limit + 1 - total))
                if not chunk:
                    complete = True
                    break
                chunks.append(chunk)
                total += len(chunk)
        except urllib3.exceptions.HTTPError as error:
            if attempt.remaining() <= 0:
                raise TransportFailure(host, "body") from None
            raise TransportFailure(host, "body", error) from None
        finally:
            if not complete:
                # Unread bytes left on the socket: the connection can't be reused.
                raw.close()
                raw.release_conn()
        return b"".join(chunks)[: limit + 1]

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool_manager.clear()


# -- knowing whether a request left ------------------------------------------------------------
# Whether Genesys may have acted on a failed POST depends on one fact: did request bytes go out?
# DNS, refused connections, TLS handshakes and pool waits all fail before that; urllib3 does not
# say which side of that line an error came from, so the connection marks the attempt itself.

_sending = threading.local()


def _mark_sent() -> None:
    attempt = getattr(_sending, "attempt", None)
    if attempt is not None:
        attempt.sent = True


class _MarkingHTTPConnection(HTTPConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kw: Any) -> None:  # type: ignore[override]
        if self.sock is None:
            self.connect()  # connect first (plain HTTP connects lazily): a failure here sent nothing
        _mark_sent()
        super().request(method, url, body=body, headers=headers, **kw)


class _MarkingHTTPSConnection(HTTPSConnection):
    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kw: Any) -> None:  # type: ignore[override]
        if self.sock is None:
            self.connect()  # normally done by the pool already (TLS handshake)
        _mark_sent()
        super().request(method, url, body=body, headers=headers, **kw)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _MarkingHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _MarkingHTTPSConnection


def _shrink_socket_timeout(raw: urllib3.BaseHTTPResponse, seconds: float) -> None:
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(0.001, seconds))


def _check_readable(text: str, status: int, attempt: Attempt, too_large: bool) -> None:
    if too_large:
        raise UnreadableResponse(f"the answer was larger than {MAX_BODY // (1 << 20)} MB", status=status)
    if not text.strip():
        if attempt.expect_body:
            raise UnreadableResponse("the answer had no body", status=status)
        return
    try:
        json.loads(text)
    except ValueError:
        raise UnreadableResponse("the answer was not valid JSON", status=status) from None


def _drop_header(headers: dict[str, Any], name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
