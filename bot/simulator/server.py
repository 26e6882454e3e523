"""HTTP front of the simulator: a threaded stdlib server speaking the Genesys Cloud wire format.

One host serves both the API (``/api/v2/...``) and the login endpoint (``/oauth/token``): the SDK
derives the login host by replacing ``//api.`` with ``//login.``, which leaves ``127.0.0.1`` alone.

Request pipeline: read the whole request (keep-alive safe) -> record it -> global latency ->
injected fault (may answer, drop, hang, delay, or execute first) -> token endpoint, or API
(authenticate -> rate limit -> route). Every response carries ``ININ-Correlation-Id`` and a
``Content-Length``; authenticated API responses carry the ``inin-ratelimit-*`` headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from bot.simulator.faults import Fault, FaultRegistry
from bot.simulator.ratelimit import RateLimiter
from bot.simulator.world import (
    SimCall,
    SimError,
    SimQueue,
    SimTransfer,
    World,
)

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 25


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    client_id: str | None
    status: int | None  # None: no response sent (dropped, hung) or still in flight
    at: float  # time.monotonic() when the request was read
    correlation_id: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: str = "pending"  # pending | answered | dropped | hung


@dataclass
class _Response:
    status: int
    body: Any = None  # dict/list -> JSON; None -> empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Token:
    client_id: str
    expires_at: float  # monotonic
    epoch: int


def error_body(status: int, code: str, message: str, context_id: str, **extra: Any) -> dict:
    body = {
        "message": message,
        "code": code,
        "status": status,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }
    body.update(extra)
    return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr: tuple[str, int], sim: GenesysSimulator) -> None:
        self.sim = sim
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-response (a stopped bot, a test timeout) is normal here."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


_CALL_RE = re.compile(r"^/api/v2/conversations/calls/([^/]+)$")
_REPLACE_RE = re.compile(r"^/api/v2/conversations/([^/]+)/participants/([^/]+)/replace/queue$")
_CONV_RE = re.compile(r"^/api/v2/conversations/([^/]+)$")
_QUEUES_RE = re.compile(r"^/api/v2/routing/queues$")
_QUEUE_RE = re.compile(r"^/api/v2/routing/queues/([^/]+)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GenesysSimulator/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are reaped after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    # ------------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    return None
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, rec: RecordedRequest, resp: _Response) -> None:
        payload = b"" if resp.body is None else json.dumps(resp.body).encode()
        # record before writing: the client may look at sim.requests as soon as it has the response
        rec.status = resp.status
        rec.outcome = "answered"
        if resp.status == 429:
            self.server.sim._count_429()
        try:
            self.send_response(resp.status)
            self.send_header("ININ-Correlation-Id", rec.correlation_id)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if payload:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _handle(self) -> None:
        sim = self.server.sim
        method = self.command.upper()
        split = urlsplit(self.path)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        parsed: Any = None
        if body and "json" in (self.headers.get("Content-Type") or "application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        rec = RecordedRequest(
            method=method,
            path=path,
            query=query,
            json=parsed,
            client_id=None,
            status=None,
            at=time.monotonic(),
            correlation_id=str(uuid.uuid4()),
            headers={k: v for k, v in self.headers.items()},
            body=body,
        )
        sim._record(rec)

        if sim.latency > 0 and sim._stopping.wait(sim.latency):
            self.close_connection = True
            return

        fault = sim._faults.take(method, path)
        if fault is not None:
            if fault.delay > 0 and sim._stopping.wait(fault.delay):
                self.close_connection = True
                return
            executed: _Response | None = None
            if fault.execute_before_fault:
                executed = self._dispatch(rec, method, path, query, body, parsed)
            if fault.hang:
                rec.outcome = "hung"
                sim._stopping.wait(sim.hang_timeout)
                self.close_connection = True
                return
            if fault.drop_connection:
                rec.outcome = "dropped"
                self.close_connection = True
                return
            if fault.status is not None:
                self._write(rec, self._fault_response(rec, fault))
                return
            if executed is not None:
                self._write(rec, executed)
                return
        self._write(rec, self._dispatch(rec, method, path, query, body, parsed))

    def _fault_response(self, rec: RecordedRequest, fault: Fault) -> _Response:
        status = fault.status or 500
        headers = dict(fault.headers)
        extra: dict[str, Any] = {}
        if status == 429:
            extra["limit"] = {
                "key": "client.credentials.token.rate.per.minute",
                "namespace": "platform.api",
                "value": self.server.sim._limiter.per_minute or 0,
            }
        return _Response(
            status,
            error_body(status, fault.error_code, fault.error_message, rec.correlation_id, **extra),
            headers,
        )

    def _err(self, rec: RecordedRequest, e: SimError, headers: dict[str, str] | None = None):
        return _Response(e.status, error_body(e.status, e.code, e.message, rec.correlation_id), headers or {})

    # ------------------------------------------------------------------ routing
    def _dispatch(
        self,
        rec: RecordedRequest,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: bytes,
        parsed: Any,
    ) -> _Response:
        sim = self.server.sim
        if path == "/oauth/token":
            if method != "POST":
                return self._err(rec, SimError(405, "method.not.allowed", "Use POST"))
            return self._token(rec, body)
        if not path.startswith("/api/"):
            return self._err(rec, SimError(404, "not.found", f"No resource at {path}"))

        auth = sim._authenticate(self.headers.get("Authorization"))
        if isinstance(auth, SimError):
            return self._err(rec, auth)
        rec.client_id = auth
        decision = sim._limiter.acquire(auth)
        headers = dict(decision.headers)
        if not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after)
            body_ = error_body(
                429,
                "too.many.requests",
                f"Rate limit exceeded the maximum [{sim._limiter.per_minute}] requests within [60] seconds",
                rec.correlation_id,
                limit={
                    "key": "client.credentials.token.rate.per.minute",
                    "namespace": "platform.api",
                    "value": sim._limiter.per_minute or 0,
                },
            )
            return _Response(429, body_, headers)
        try:
            resp = self._route(method, path, query, parsed, body)
        except SimError as e:
            return self._err(rec, e, headers)
        resp.headers.update(headers)
        return resp

    def _route(self, method: str, path: str, query: dict[str, list[str]], parsed: Any, body: bytes) -> _Response:
        world = self.server.sim.world

        def need(m: str) -> None:
            if method != m:
                raise SimError(405, "method.not.allowed", f"Method {method} not allowed on {path}")

        if m := _CALL_RE.match(path):
            need("GET")
            return _Response(200, world.call_json(unquote(m.group(1))))
        if m := _REPLACE_RE.match(path):
            need("POST")
            if body and parsed is None:
                raise SimError(400, "bad.request", "The request body could not be parsed as JSON")
            world.replace_with_queue(unquote(m.group(1)), unquote(m.group(2)), parsed)
            return _Response(202)
        if m := _CONV_RE.match(path):
            need("GET")
            return _Response(200, world.conversation_json(unquote(m.group(1))))
        if _QUEUES_RE.match(path):
            need("GET")
            return _Response(200, self._queues(query))
        if m := _QUEUE_RE.match(path):
            need("GET")
            return _Response(200, world.get_queue(unquote(m.group(1))))
        raise SimError(404, "not.found", f"No resource at {path}")

    def _queues(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def int_param(name: str, default: int) -> int:
            raw = query.get(name, [str(default)])[-1]
            try:
                return int(raw)
            except ValueError:
                raise SimError(400, "bad.request", f"Invalid value [{raw}] for {name}") from None

        page_size = int_param("pageSize", DEFAULT_PAGE_SIZE)
        page_number = int_param("pageNumber", 1)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise SimError(400, "invalid.value", f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        if page_number < 1:
            raise SimError(400, "invalid.value", "pageNumber must be at least 1")
        name = query.get("name", [None])[-1]
        sort_order = (query.get("sortOrder", ["asc"])[-1] or "asc").lower()
        queues = self.server.sim.world.list_queues(
            name=name,
            division_ids=[d for v in query.get("divisionId", []) for d in v.split(",") if d],
            ids=[i for v in query.get("id", []) for i in v.split(",") if i],
            sort_desc=sort_order == "desc",
        )
        total = len(queues)
        page_count = math.ceil(total / page_size)
        start = (page_number - 1) * page_size
        entities = [q.to_json() for q in queues[start : start + page_size]]

        keep = [(k, v) for k, vs in query.items() if k not in ("pageSize", "pageNumber") for v in vs]

        def uri(n: int) -> str:
            params = [("pageSize", str(page_size)), ("pageNumber", str(n)), *keep]
            return "/api/v2/routing/queues?" + urlencode(params)

        listing: dict[str, Any] = {
            "entities": entities,
            "pageSize": page_size,
            "pageNumber": page_number,
            "total": total,
            "pageCount": page_count,
            "firstUri": uri(1),
            "selfUri": uri(page_number),
            "lastUri": uri(max(page_count, 1)),
        }
        if page_number < page_count:
            listing["nextUri"] = uri(page_number + 1)
        if page_number > 1:
            listing["previousUri"] = uri(min(page_number - 1, max(page_count, 1)))
        return listing

    def _token(self, rec: RecordedRequest, body: bytes) -> _Response:
        sim = self.server.sim
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id = secret = None
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = None
        if client_id is None:
            client_id = form.get("client_id", [None])[-1]
            secret = form.get("client_secret", [None])[-1]
        if client_id is None or sim._clients.get(client_id) != secret:
            msg = "authentication failed"
            return _Response(401, {"error": "invalid_client", "description": msg, "error_description": msg})
        rec.client_id = client_id
        grant = form.get("grant_type", [None])[-1]
        if grant != "client_credentials":
            msg = f"unsupported grant type: {grant}"
            return _Response(
                400,
                {"error": "unsupported_grant_type", "description": msg, "error_description": msg},
            )
        token = sim._issue_token(client_id)
        return _Response(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": sim.token_ttl_seconds},
        )


class GenesysSimulator:
    """A fake Genesys Cloud org on 127.0.0.1. See bot/simulator/__init__.py for the API summary."""

    def __init__(
        self,
        rate_limit_per_minute: int | None = 300,
        burst: int = 10,
        token_ttl_seconds: int = 86400,
        latency: float = 0.0,
        client_id: str = "sim-client",
        client_secret: str = "sim-secret",
        transfer_delay: float = 0.0,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        hang_timeout: float = 120.0,
    ) -> None:
        self.world = World(transfer_delay=transfer_delay)
        self.token_ttl_seconds = token_ttl_seconds
        self.latency = latency
        self.client_id = client_id
        self.client_secret = client_secret
        self.hang_timeout = hang_timeout
        self._host = host
        self._port = port
        self._clients: dict[str, str] = {client_id: client_secret}
        self._limiter = RateLimiter(rate_limit_per_minute, burst)
        self._faults = FaultRegistry()
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._token_epoch = 0
        self._requests: list[RecordedRequest] = []
        self._count_429_value = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> GenesysSimulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"genesys-sim-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GenesysSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Start (if needed) and block until KeyboardInterrupt, then stop."""
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    # ------------------------------------------------------------------ world
    def add_queue(self, name: str, division: str = "Home", **kw: Any) -> SimQueue:
        return self.world.add_queue(name, division, **kw)

    def add_call(
        self,
        scenario: str = "connected",
        queue: SimQueue | str | None = None,
        agent_name: str = "Alice Agent",
        stale_agent_duplicates: int = 0,
        **kw: Any,
    ) -> SimCall:
        return self.world.add_call(scenario, queue, agent_name, stale_agent_duplicates, **kw)

    def end_call(self, conv_id: str) -> None:
        self.world.end_call(conv_id)

    def change_agent(self, conv_id: str, agent_name: str = "Bob Agent", participant_id: str | None = None) -> str:
        return self.world.change_agent(conv_id, agent_name, participant_id)

    def set_transfer_outcome(self, conv_id: str, outcome: str, times: int | None = None) -> None:
        self.world.set_transfer_outcome(conv_id, outcome, times)

    def set_transfer_delay(self, seconds: float) -> None:
        with self.world.lock:
            self.world.transfer_delay = seconds

    def call_json(self, conv_id: str) -> dict[str, Any]:
        """What GET /conversations/calls/{id} returns (for a "message" conversation: the generic
        GET /conversations/{id} JSON). KeyError for an unknown id."""
        try:
            return self.world.call_json(conv_id)
        except SimError:
            if conv_id not in self.world.conversations:
                raise KeyError(conv_id) from None
            return self.world.conversation_json(conv_id)

    def conversation_json(self, conv_id: str) -> dict[str, Any]:
        try:
            return self.world.conversation_json(conv_id)
        except SimError:
            raise KeyError(conv_id) from None

    @property
    def transfers(self) -> list[SimTransfer]:
        with self.world.lock:
            return list(self.world.transfers)

    # ------------------------------------------------------------------ behaviour knobs
    def set_latency(self, seconds: float) -> None:
        self.latency = seconds

    def set_rate_limit(self, per_minute: int | None, burst: int) -> None:
        self._limiter.configure(per_minute, burst)

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register another OAuth client (own rate-limit bucket)."""
        with self._lock:
            self._clients[client_id] = client_secret

    def expire_tokens(self) -> None:
        with self._lock:
            self._token_epoch += 1

    def issue_token(self, client_id: str | None = None) -> str:
        """Mint a valid access token without an HTTP round trip (test convenience)."""
        return self._issue_token(client_id or self.client_id)

    def inject(
        self,
        method: str | None = "POST",
        path: str = r"/replace/queue$",
        status: int | None = 503,
        code: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        hang: bool = False,
        times: int | None = 1,
        execute_before_fault: bool = False,
    ) -> Fault:
        return self._faults.add(
            Fault(
                method=method,
                path=path,
                status=status,
                code=code,
                message=message,
                headers=dict(headers or {}),
                delay=delay,
                drop_connection=drop_connection,
                hang=hang,
                times=times,
                execute_before_fault=execute_before_fault,
            )
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    # ------------------------------------------------------------------ observation
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_matching(self, method: str | None, path_regex: str) -> list[RecordedRequest]:
        rx = re.compile(path_regex)
        return [r for r in self.requests if (method is None or r.method == method.upper()) and rx.search(r.path)]

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._count_429_value = 0

    @property
    def count_429(self) -> int:
        with self._lock:
            return self._count_429_value

    # ------------------------------------------------------------------ internals
    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(rec)

    def _count_429(self) -> None:
        with self._lock:
            self._count_429_value += 1

    def _issue_token(self, client_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(
                client_id=client_id,
                expires_at=time.monotonic() + self.token_ttl_seconds,
                epoch=self._token_epoch,
            )
        return token

    def _authenticate(self, header: str | None) -> str | SimError:
        if not header or header[:7].lower() != "bearer " or not header[7:].strip():
            return SimError(
                401,
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
            )
        with self._lock:
            tok = self._tokens.get(header[7:].strip())
            epoch = self._token_epoch
        if tok is None:
            return SimError(401, "bad.credentials", "Invalid login credentials.")
        if tok.epoch != epoch or time.monotonic() >= tok.expires_at:
            return SimError(401, "credentials.expired", "The token has expired.")
        return tok.client_id
