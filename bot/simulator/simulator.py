"""``GenesysSimulator``: the controls of the fake org (lifecycle, world set-up, behaviour knobs,
fault injection and observation). The HTTP side is in ``server``; state lives in ``world``.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.simulator import render
from bot.simulator.entities import (
    LiveConversation,
    QueueStats,
    SimCall,
    SimError,
    SimQueue,
    SimTransfer,
    SimUser,
)
from bot.simulator.faults import Fault, FaultRegistry
from bot.simulator.ratelimit import RateLimiter
from bot.simulator.server import RecordedRequest, _Server
from bot.simulator.world import World

TWENTY_MB = 20 * 1024 * 1024


@dataclass
class _Token:
    client_id: str
    expires_at: float  # monotonic
    epoch: int


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
        auto_answer: float | None = None,
    ) -> None:
        self.world = World(transfer_delay=transfer_delay)
        self.world.auto_answer = auto_answer
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

    # ------------------------------------------------------------------ org: queues and users
    def add_queue(self, name: str, division: str = "Home", **kw: Any) -> SimQueue:
        """A queue (kw: queue_id, member_count, joined_member_count, description, aht_seconds)."""
        return self.world.add_queue(name, division, **kw)

    def add_user(
        self,
        name: str,
        email: str,
        *,
        state: str = "active",
        station: bool = True,
        routing_status: str = "IDLE",
        queues: Iterable[SimQueue | str] = (),
        user_id: str | None = None,
        division: str = "Home",
    ) -> SimUser:
        """A user (state active|inactive|deleted; routing_status OFF_QUEUE|IDLE|INTERACTING|
        NOT_RESPONDING|COMMUNICATING; queues as handles, ids or names)."""
        return self.world.add_user(name, email, state=state, station=station, routing_status=routing_status,
                                   queues=queues, user_id=user_id, division=division)  # fmt: skip

    def update_user(
        self,
        user: SimUser | str,
        *,
        state: str | None = None,
        station: bool | None = None,
        routing_status: str | None = None,
        queues: Iterable[SimQueue | str] | None = None,
    ) -> SimUser:
        """Change a user's state, station, configured routing status or queue memberships."""
        return self.world.update_user(user, state=state, station=station, routing_status=routing_status,
                                      queues=queues)  # fmt: skip

    def set_routing_status(self, user: SimUser | str, status: str) -> SimUser:
        return self.world.update_user(user, routing_status=status)

    def user(self, user: SimUser | str) -> SimUser:
        """A user by handle, id or name (an unknown name creates the user)."""
        return self.world.resolve_user(user)

    @property
    def users(self) -> list[SimUser]:
        with self.world.lock:
            return sorted(self.world.users.values(), key=lambda u: (u.name, u.id))

    # ------------------------------------------------------------------ conversations
    def add_call(
        self,
        scenario: str = "connected",
        queue: SimQueue | str | None = None,
        agent_name: str = "Alice Agent",
        stale_agent_duplicates: int = 0,
        **kw: Any,
    ) -> SimCall:
        """A voice call in ``scenario`` (see ``SCENARIOS``; "message" adds a connected chat)."""
        return self.world.add_call(scenario, queue, agent_name, stale_agent_duplicates, **kw)

    def add_conversation(
        self,
        media: str = "call",
        scenario: str = "connected",
        *,
        agent: SimUser | str | None = None,
        queue: SimQueue | str | None = None,
        **kw: Any,
    ) -> SimCall:
        """A call, chat, email or callback held by ``agent`` (kw: conversation_id, supervisor,
        second_agent, stale_agent_duplicates, customer_name, ani, dnis, subject, started_seconds_ago)."""
        return self.world.add_conversation(media, scenario, agent=agent, queue=queue, **kw)

    def end_call(self, conv_id: str) -> None:
        self.world.end_call(conv_id)

    def end_conversation(self, conv_id: str) -> None:
        """Hang up any conversation (KeyError for an unknown id)."""
        self.world.end_call(conv_id)

    def change_agent(self, conv_id: str, agent_name: str = "Bob Agent", participant_id: str | None = None) -> str:
        return self.world.change_agent(conv_id, agent_name, participant_id)

    def set_participant_state(self, conv_id: str, participant_id: str, state: str) -> None:
        """Force a leg's state, e.g. "quantum", which the SDK reads as "outdated_sdk_version"."""
        self.world.set_participant_state(conv_id, participant_id, state)

    def live_conversations(self) -> list[LiveConversation]:
        """Conversations not yet ended, with media, state, agent and current queue (side panel)."""
        return self.world.live_conversations()

    def queue_stats(self) -> list[QueueStats]:
        """Per queue: members, on-queue, available (IDLE), interacting, waiting, estimated wait."""
        return self.world.queue_stats()

    def call_json(self, conv_id: str) -> dict[str, Any]:
        """What GET /conversations/calls/{id} returns (for a non-voice conversation: the generic
        GET /conversations/{id} JSON). KeyError for an unknown id."""
        try:
            return render.call_json(self.world, conv_id)
        except SimError:
            if conv_id not in self.world.conversations:
                raise KeyError(conv_id) from None
            return render.conversation_json(self.world, conv_id)

    def conversation_json(self, conv_id: str) -> dict[str, Any]:
        try:
            return render.conversation_json(self.world, conv_id)
        except SimError:
            raise KeyError(conv_id) from None

    # ------------------------------------------------------------------ transfer behaviour
    def set_transfer_outcome(
        self,
        conv_id: str | None,
        outcome: str,
        times: int | None = None,
        *,
        delay: float | None = None,
        active_after: float | None = None,
    ) -> None:
        """How the next transfers of ``conv_id`` (None: of every conversation without its own plan) end.

        ``outcome``: complete | pending (never finishes) | active (Active for good after ``delay``) |
        failed | canceled | timeout (202 first, the final state after ``delay``; the call stays with
        the original agent). ``delay`` None uses ``set_transfer_delay``; the entry shows Pending, or
        Active from ``active_after`` seconds. ``times`` None: sticky, else for that many transfers.
        """
        self.world.set_transfer_outcome(conv_id, outcome, times, delay=delay, active_after=active_after)

    def set_transfer_delay(self, seconds: float) -> None:
        """Seconds every transfer stays Pending before it completes (default 0)."""
        with self.world.lock:
            self.world.transfer_delay = seconds

    def set_auto_answer(self, seconds: float | None) -> None:
        """After a completed queue transfer, an IDLE member of that queue answers after ``seconds``
        (None: off, the interaction waits in the queue)."""
        with self.world.lock:
            self.world.auto_answer = seconds

    def set_agent_answer(self, seconds: float | None) -> None:
        """A user transferred to (replace/agent) answers after ``seconds`` (None: keeps alerting)."""
        with self.world.lock:
            self.world.agent_answer = seconds

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

    # ------------------------------------------------------------------ faults
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
        *,
        body: bytes | None = None,
        message_size: int | None = None,
        drip: float = 0.0,
        truncate_after: int | None = None,
    ) -> Fault:
        """Make the next ``times`` requests matching (method, path regex) misbehave (see ``faults``)."""
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
                body=body,
                message_size=message_size,
                drip=drip,
                truncate_after=truncate_after,
            )
        )

    def inject_invalid_json(self, method: str | None = "GET", path: str = r"/conversations/", *,
                            status: int = 200, times: int | None = 1) -> Fault:  # fmt: skip
        """Answer ``status`` (200) with a body that is not valid JSON."""
        return self.inject(method, path, status=status, body=b'{"id": "truncated', times=times)

    def inject_huge_error(self, method: str | None = "GET", path: str = r"/conversations/", *,
                          status: int = 500, size: int = TWENTY_MB, times: int | None = 1) -> Fault:  # fmt: skip
        """Answer an ErrorBody whose message is ``size`` bytes long (20 MB by default)."""
        return self.inject(method, path, status=status, message_size=size, times=times)

    def inject_drip(self, method: str | None = "GET", path: str = r"/conversations/", *, interval: float = 1.0,
                    status: int | None = None, times: int | None = 1) -> Fault:  # fmt: skip
        """Send the (real, or ``status``) response body one byte every ``interval`` seconds."""
        return self.inject(method, path, status=status, drip=interval, times=times)

    def inject_drop(self, method: str | None = "POST", path: str = r"/replace/queue$", *,
                    execute_before_fault: bool = False, times: int | None = 1) -> Fault:  # fmt: skip
        """Read the request, then close the connection without answering."""
        return self.inject(method, path, status=None, drop_connection=True, times=times,
                           execute_before_fault=execute_before_fault)  # fmt: skip

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

    # ------------------------------------------------------------------ internals (used by the server)
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
