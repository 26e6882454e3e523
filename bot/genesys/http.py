"""An HTTP client for the Genesys SDK that never retries on its own and always times out.

The SDK's default client (rest.py) builds `urllib3.Retry()` with POST in `allowed_methods`: it
silently re-sends a transfer POST up to 10 times after a dropped connection or a 429/503 with
Retry-After, and it passes no timeout to urllib3, so a hung server blocks a thread forever (see
docs/genesys-api.md §5.5). A duplicated transfer POST can act on the *new* holder of the call, so
this client is injected with `ApiClient.set_http_client()` and:

* uses `retries=False`: every urllib3 error surfaces immediately, as the urllib3 exception, and
  the adapter (sdk_client.py) decides — per method — what may be retried;
* sets explicit connect/read timeouts and a bounded wait for a pooled connection;
* otherwise behaves like rest.py (same request shapes, `RESTResponse`, `ApiException` for
  non-2xx), so `ApiClient` deserialisation and error handling keep working.

It also remembers the last response headers *per thread*, because `ApiClient.last_response` is a
single attribute overwritten by every call and is therefore useless with concurrent requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import certifi
import urllib3
from PureCloudPlatformClientV2.abstract_http_client import AbstractHttpClient
from PureCloudPlatformClientV2.http_request_options import HttpRequestOptions
from PureCloudPlatformClientV2.rest import ApiException, RESTResponse

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "OPTIONS"})
_QUERY_METHODS = frozenset({"GET", "HEAD", "DELETE"})


class GuardedHttpClient(AbstractHttpClient):
    """`AbstractHttpClient` with no automatic retries, explicit timeouts and per-thread headers."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        pool_size: int = 32,
        pool_timeout: float | None = None,
        pool_manager: urllib3.PoolManager | None = None,
    ) -> None:
        super().__init__()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # How long a thread may wait for a free pooled connection (block=True). Bounded so that a
        # saturated pool turns into an error instead of a silent hang; nothing has been sent then.
        self.pool_timeout = pool_timeout if pool_timeout is not None else connect_timeout + read_timeout
        # The SDK's abstract `timeout` is in milliseconds and unused by its own client; keep it
        # consistent for anyone who reads it.
        self.timeout = int((connect_timeout + read_timeout) * 1000)
        self.pool_manager = pool_manager or urllib3.PoolManager(
            num_pools=4,
            maxsize=pool_size,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            # Same trust store as the SDK's default client (certifi), verified always.
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
        self._local = threading.local()

    # -- per-thread bookkeeping ---------------------------------------------------------------

    def last_headers(self) -> Mapping[str, str] | None:
        """Headers of the last response received by *this thread* (success or HTTP error)."""
        return getattr(self._local, "headers", None)

    def last_authorization(self) -> str | None:
        """The Authorization header this thread sent last (to invalidate exactly that token)."""
        return getattr(self._local, "authorization", None)

    def begin(self, bearer_token: str | None = None) -> None:
        """Start a request on this thread: forget the previous response, bind the token to send.

        The SDK reads the token from `ApiClient.access_token`, one attribute shared by every
        thread; right after a re-login one thread could send another thread's stale value. A
        token bound here replaces the SDK's `Bearer ...` header, so each request carries exactly
        the token its own thread obtained (and `last_authorization()` names what was sent).
        """
        self._local.headers = None
        self._local.authorization = None
        self._local.bearer = bearer_token

    # -- AbstractHttpClient -------------------------------------------------------------------

    def request(self, http_request_options: HttpRequestOptions) -> RESTResponse:
        if not isinstance(http_request_options, HttpRequestOptions):
            raise ValueError("httpRequestOptions must be an instance of HttpRequestOptions")
        options = http_request_options
        if self.pre_hook and callable(self.pre_hook):
            options = self.pre_hook(options)

        method = options.method.upper()
        url: str = options.url
        headers: dict[str, Any] = dict(options.headers or {})
        query_params = options.query_params or {}
        post_params = options.post_params or {}
        body = options.body
        if post_params and body:
            raise ValueError("body parameter cannot be used with post_params parameter.")

        self._local.headers = None
        bearer = getattr(self._local, "bearer", None)
        sent_auth = _header(headers, "Authorization")
        if bearer and isinstance(sent_auth, str) and sent_auth[:7].lower() == "bearer ":
            _drop_header(headers, "Authorization")
            headers["Authorization"] = "Bearer " + bearer
        self._local.authorization = _header(headers, "Authorization")
        content_type = _header(headers, "Content-Type")
        if content_type is None:
            content_type = "application/json"
            headers["Content-Type"] = content_type

        kwargs: dict[str, Any] = {"headers": headers, "pool_timeout": self.pool_timeout}
        if method in _BODY_METHODS:
            if query_params:
                url += "?" + urlencode(query_params)
            if content_type == "application/x-www-form-urlencoded":
                kwargs.update(fields=post_params, encode_multipart=False)
            elif content_type == "multipart/form-data":
                # urllib3 generates the boundary; an explicit Content-Type would drop it.
                _drop_header(headers, "Content-Type")
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

        raw = self.pool_manager.request(method, url, **kwargs)
        response = RESTResponse(raw)
        if isinstance(response.data, bytes):
            response.data = response.data.decode("utf-8", errors="replace")
        self._local.headers = raw.headers

        if self.post_hook and callable(self.post_hook):
            response = self.post_hook(response)

        if response.status not in range(200, 206):
            raise ApiException(http_resp=response)
        return response

    def close(self) -> None:
        self.pool_manager.clear()


def _header(headers: Mapping[str, Any], name: str) -> Any:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def _drop_header(headers: dict[str, Any], name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]


def header_value(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """Case-insensitive header lookup on any mapping (urllib3's HTTPHeaderDict or a plain dict)."""
    if not headers:
        return None
    value = _header(headers, name)
    return None if value is None else str(value)
