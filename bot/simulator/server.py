"""HTTP plumbing of the simulator: a threaded stdlib server speaking the Genesys Cloud wire format.

One host serves both the API (``/api/v2/...``) and the login endpoint (``/oauth/token``): the SDK
derives the login host by replacing ``//api.`` with ``//login.``, which leaves ``127.0.0.1`` alone.

Request pipeline: read the whole request (keep-alive safe) -> record it -> global latency ->
injected fault (may answer, drop, hang, delay, drip, truncate, or execute first) -> token endpoint,
or API (authenticate -> rate limit -> route through ``ROUTES``). Every response carries
``ININ-Correlation-Id`` and a ``Content-Length``; authenticated API responses carry the
``inin-ratelimit-*`` headers. A client hanging up is normal and never printed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from bot.simulator import endpoints as ep
from bot.simulator.endpoints import ApiRequest, ApiResponse
from bot.simulator.entities import SimError
from bot.simulator.faults import Fault

if TYPE_CHECKING:
    from bot.simulator.simulator import GenesysSimulator

Handler = Callable[..., ApiResponse]

_ID = r"([^/]+)"
_PARTICIPANT = rf"^/api/v2/conversations/{_ID}/participants/{_ID}"
# Routing table: path regex -> {method: handler}. First match wins; a wrong method is a 405.
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(rf"^/api/v2/conversations/calls/{_ID}$"), {"GET": ep.get_call}),
    (re.compile(rf"{_PARTICIPANT}/replace/queue$"), {"POST": ep.replace_queue}),
    (re.compile(rf"{_PARTICIPANT}/replace/agent$"), {"POST": ep.replace_agent}),
    (re.compile(rf"{_PARTICIPANT}/transfer$"), {"POST": ep.transfer_to_address}),
    (re.compile(rf"^/api/v2/conversations/{_ID}$"), {"GET": ep.get_conversation}),
    (re.compile(r"^/api/v2/routing/queues$"), {"GET": ep.list_queues}),
    (re.compile(rf"^/api/v2/routing/queues/{_ID}$"), {"GET": ep.get_queue}),
    (re.compile(rf"^/api/v2/routing/queues/{_ID}/estimatedwaittime$"), {"GET": ep.queue_wait}),
    (re.compile(rf"^/api/v2/routing/queues/{_ID}/mediatypes/{_ID}/estimatedwaittime$"), {"GET": ep.queue_media_wait}),
    (re.compile(r"^/api/v2/users/search$"), {"POST": ep.users_search}),
    (re.compile(rf"^/api/v2/users/{_ID}$"), {"GET": ep.get_user}),
    (re.compile(rf"^/api/v2/users/{_ID}/routingstatus$"), {"GET": ep.get_routing_status}),
    (re.compile(r"^/api/v2/analytics/conversations/activity/query$"), {"POST": ep.activity_query}),
    (re.compile(r"^/api/v2/analytics/queues/observations/query$"), {"POST": ep.queue_observations}),
]

RATE_LIMIT_KEY = "client.credentials.token.rate.per.minute"


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
    outcome: str = "pending"  # pending | answered | dropped | hung | truncated


def error_body(status: int, code: str, message: str, context_id: str, **extra: Any) -> dict:
    """Genesys ErrorBody."""
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


def _rate_limit_detail(per_minute: int | None) -> dict[str, Any]:
    return {"key": RATE_LIMIT_KEY, "namespace": "platform.api", "value": per_minute or 0}


def __getattr__(name: str) -> Any:
    """``GenesysSimulator`` used to live here; keep ``from bot.simulator.server import GenesysSimulator``."""
    if name == "GenesysSimulator":
        from bot.simulator.simulator import GenesysSimulator

        return GenesysSimulator
    raise AttributeError(name)


def route(sim: GenesysSimulator, req: ApiRequest) -> ApiResponse:
    """Find the handler for an authenticated API request and run it (SimError for 404/405)."""
    for regex, methods in ROUTES:
        m = regex.match(req.path)
        if m is None:
            continue
        handler = methods.get(req.method)
        if handler is None:
            raise SimError(405, "method.not.allowed", f"Method {req.method} not allowed on {req.path}")
        return handler(sim.world, req, *(unquote(g) for g in m.groups()))
    raise SimError(404, "not.found", f"No resource at {req.path}")


def _best_effort_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr: tuple[str, int], sim: GenesysSimulator) -> None:
        self.sim = sim
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request or mid-response (a stopped bot, a test timeout) is normal."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GenesysSimulator/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are reaped after this
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # ------------------------------------------------------------------ reading
    def _read_chunked(self) -> bytes | None:
        chunks = []
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16) if line else -1
            except ValueError:
                size = -1
            if size < 0:
                return None  # hung up or not chunked after all: drop the connection
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    # ------------------------------------------------------------------ writing
    def _write(self, rec: RecordedRequest, resp: ApiResponse, fault: Fault | None = None) -> None:
        raw = resp.body if isinstance(resp.body, bytes) else None
        payload = raw if raw is not None else (b"" if resp.body is None else json.dumps(resp.body).encode())
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
            self._send_payload(rec, payload, fault)
        except OSError:
            self.close_connection = True

    def _send_payload(self, rec: RecordedRequest, payload: bytes, fault: Fault | None) -> None:
        if fault is not None and fault.truncate_after is not None:
            payload = payload[: fault.truncate_after]
            rec.outcome, self.close_connection = "truncated", True
        if fault is None or fault.drip <= 0:
            self.wfile.write(payload)
            self.wfile.flush()
            return
        stopping = self.server.sim._stopping
        for i in range(len(payload)):
            self.wfile.write(payload[i : i + 1])
            self.wfile.flush()
            if i + 1 < len(payload) and stopping.wait(fault.drip):
                self.close_connection = True
                return

    # ------------------------------------------------------------------ pipeline
    def _handle(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        req = ApiRequest(
            method=self.command.upper(),
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            body=body,
            content_type=self.headers.get("Content-Type"),
        )
        rec = RecordedRequest(
            method=req.method,
            path=req.path,
            query=req.query,
            json=_best_effort_json(body),
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
        fault = sim._faults.take(req.method, req.path)
        if fault is None:
            self._write(rec, self._dispatch(rec, req))
        else:
            self._handle_fault(rec, req, fault)

    def _handle_fault(self, rec: RecordedRequest, req: ApiRequest, fault: Fault) -> None:
        sim = self.server.sim
        if fault.delay > 0 and sim._stopping.wait(fault.delay):
            self.close_connection = True
            return
        executed = self._dispatch(rec, req) if fault.execute_before_fault else None
        if fault.hang:
            rec.outcome = "hung"
            sim._stopping.wait(sim.hang_timeout)
            self.close_connection = True
            return
        if fault.drop_connection:
            rec.outcome = "dropped"
            self.close_connection = True
            return
        if fault.replaces_answer:
            resp = self._fault_response(rec, fault)
        else:
            resp = executed if executed is not None else self._dispatch(rec, req)
        self._write(rec, resp, fault)

    def _fault_response(self, rec: RecordedRequest, fault: Fault) -> ApiResponse:
        if fault.body is not None:
            return ApiResponse(fault.status or 200, fault.body, dict(fault.headers))
        status = fault.status or 500
        extra: dict[str, Any] = {}
        if status == 429:
            extra["limit"] = _rate_limit_detail(self.server.sim._limiter.per_minute)
        body = error_body(status, fault.error_code, fault.error_message, rec.correlation_id, **extra)
        return ApiResponse(status, body, dict(fault.headers))

    def _err(self, rec: RecordedRequest, e: SimError, headers: dict[str, str] | None = None) -> ApiResponse:
        return ApiResponse(e.status, error_body(e.status, e.code, e.message, rec.correlation_id), headers or {})

    def _dispatch(self, rec: RecordedRequest, req: ApiRequest) -> ApiResponse:
        sim = self.server.sim
        if req.path == "/oauth/token":
            if req.method != "POST":
                return self._err(rec, SimError(405, "method.not.allowed", "Use POST"))
            return self._token(rec, req.body)
        if not req.path.startswith("/api/"):
            return self._err(rec, SimError(404, "not.found", f"No resource at {req.path}"))
        auth = sim._authenticate(self.headers.get("Authorization"))
        if isinstance(auth, SimError):
            return self._err(rec, auth)
        rec.client_id = req.client_id = auth
        decision = sim._limiter.acquire(auth)
        headers = dict(decision.headers)
        if not decision.allowed:
            headers["Retry-After"] = str(decision.retry_after)
            per_minute = sim._limiter.per_minute
            message = f"Rate limit exceeded the maximum [{per_minute}] requests within [60] seconds"
            body = error_body(429, "too.many.requests", message, rec.correlation_id,
                              limit=_rate_limit_detail(per_minute))  # fmt: skip
            return ApiResponse(429, body, headers)
        try:
            resp = route(sim, req)
        except SimError as e:
            return self._err(rec, e, headers)
        except Exception as e:  # a simulator bug: answer like Genesys would, and show it
            traceback.print_exc()
            return self._err(rec, SimError(500, "internal.server.error", f"Simulator error: {e!r}"), headers)
        resp.headers.update(headers)
        return resp

    # ------------------------------------------------------------------ token endpoint
    def _client_credentials(self, form: dict[str, list[str]]) -> tuple[str | None, str | None]:
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
                return client_id, secret
            except (binascii.Error, UnicodeDecodeError):
                pass
        return form.get("client_id", [None])[-1], form.get("client_secret", [None])[-1]

    def _token(self, rec: RecordedRequest, body: bytes) -> ApiResponse:
        sim = self.server.sim
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id, secret = self._client_credentials(form)
        if client_id is None or sim._clients.get(client_id) != secret:
            msg = "authentication failed"
            return ApiResponse(401, {"error": "invalid_client", "description": msg, "error_description": msg})
        rec.client_id = client_id
        grant = form.get("grant_type", [None])[-1]
        if grant != "client_credentials":
            msg = f"unsupported grant type: {grant}"
            return ApiResponse(400, {"error": "unsupported_grant_type", "description": msg, "error_description": msg})
        token = sim._issue_token(client_id)
        return ApiResponse(200, {"access_token": token, "token_type": "bearer", "expires_in": sim.token_ttl_seconds})
