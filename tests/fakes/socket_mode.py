"""A local stand-in for Slack's Socket Mode WebSocket endpoint (stdlib only, 127.0.0.1).

Speaks just enough RFC 6455 for slack_sdk's builtin client: the HTTP Upgrade handshake with
Sec-WebSocket-Accept, masked client frames in, unmasked server frames out, ping → pong, close.
Like Slack it sends `{"type": "hello"}` on connect; tests push envelopes (`push`,
`push_slash_command`) and read the client's acks (`wait_ack`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.playground.waiting import wait_on

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HANDSHAKE = 16 * 1024
MAX_FRAME = 4 * 1024 * 1024


class _Closed(Exception):
    pass


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes = b"") -> bytes:
    """One final, unmasked server→client frame."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n <= 125:
        head += bytes([n])
    elif n <= 0xFFFF:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


@dataclass
class Ack:
    envelope_id: str
    payload: dict | None
    raw: dict
    at: float = field(default_factory=time.monotonic)


class Connection:
    """One accepted client: handshake, then a frame loop on its own thread."""

    def __init__(self, server: FakeSocketMode, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.path = ""
        self.headers: dict[str, str] = {}
        self.open = False
        self.pings = 0
        self.opened_at: float | None = None
        self._buf = b""
        self._send_lock = threading.Lock()

    # ---- sending ----
    def send_frame(self, opcode: int, payload: bytes = b"") -> None:
        with self._send_lock:
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict) -> None:
        self.send_frame(OP_TEXT, json.dumps(message).encode())

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(OSError):
                self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())
        with contextlib.suppress(OSError):
            self.sock.close()

    # ---- reading ----
    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if self.server.stopped:
                raise _Closed
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError as error:
                raise _Closed from error
            if not chunk:
                raise _Closed
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._read(2)
        fin, opcode, masked, length = bool(b1 & 0x80), b1 & 0x0F, bool(b2 & 0x80), b2 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        if length > MAX_FRAME:
            raise _Closed
        mask = self._read(4) if masked else b""
        data = self._read(length)
        if masked:
            self.server.masked_frames += 1
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        else:
            self.server.unmasked_frames += 1
        return fin, opcode, data

    # ---- lifecycle ----
    def run(self) -> None:
        try:
            if self._handshake():
                self._loop()
        except _Closed:
            pass
        finally:
            self.open = False
            with contextlib.suppress(OSError):
                self.sock.close()
            self.server._changed()

    def _handshake(self) -> bool:
        buf = b""
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HANDSHAKE or self.server.stopped:
                return False
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            buf += chunk
        head, self._buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        self.path = parts[1] if len(parts) >= 2 else ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        key = self.headers.get("sec-websocket-key", "")
        ok = (
            parts[0] == "GET"
            and self.headers.get("upgrade", "").lower() == "websocket"
            and "upgrade" in self.headers.get("connection", "").lower()
            and self.headers.get("sec-websocket-version") == "13"
            and len(base64.b64decode(key or "=")) == 16
        )
        if not ok:
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        self.sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
        )
        self.open = True
        self.opened_at = time.monotonic()
        self.server._changed()
        if self.server.send_hello:
            self.send_json(self.server.hello())
        return True

    def _loop(self) -> None:
        fragments: list[bytes] = []
        fragment_op = OP_TEXT
        while self.open and not self.server.stopped:
            fin, opcode, data = self._read_frame()
            if opcode == OP_PING:
                self.pings += 1
                self.send_frame(OP_PONG, data)
                self.server._changed()
            elif opcode == OP_PONG:
                continue
            elif opcode == OP_CLOSE:
                self.server.client_closes.append(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005)
                if self.open:
                    self.open = False
                    with contextlib.suppress(OSError):
                        self.send_frame(OP_CLOSE, data[:2])
                return
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                if opcode != OP_CONT:
                    fragments, fragment_op = [], opcode
                fragments.append(data)
                if fin:
                    message = b"".join(fragments)
                    fragments = []
                    if fragment_op == OP_TEXT:
                        self.server._on_text(self, message.decode("utf-8"))


class FakeSocketMode:
    """Slack's Socket Mode endpoint on 127.0.0.1. Point apps.connections.open at `url`."""

    def __init__(self, *, app_id: str = "A0TEST", send_hello: bool = True) -> None:
        self.app_id = app_id
        self.send_hello = send_hello
        self.connections: list[Connection] = []
        self.acks: list[Ack] = []
        self.messages: list[dict] = []  # every text message from the client, acks included
        self.client_closes: list[int] = []
        self.masked_frames = 0
        self.unmasked_frames = 0  # RFC 6455: a client must mask; stays 0 for a well-behaved client
        self.pushed: dict[str, float] = {}  # envelope_id -> monotonic time pushed
        self.stopped = False
        self._cond = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept_loop, name="fake-socket-mode", daemon=True)

    # ---- lifecycle ----
    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped = True
        for conn in list(self.connections):
            conn.close(1001, "going away")
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=2)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={uuid.uuid4().hex}&app_id={self.app_id}"

    def hello(self) -> dict:
        return {
            "type": "hello",
            "num_connections": sum(1 for c in self.connections if c.open),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600},
            "connection_info": {"app_id": self.app_id},
        }

    # ---- pushing envelopes ----
    def active(self) -> Connection:
        with self._cond:
            live = [c for c in self.connections if c.open]
        if not live:
            raise AssertionError("no open Socket Mode connection")
        return live[-1]

    def push(self, type_: str, payload: dict, *, envelope_id: str | None = None,
             accepts_response_payload: bool = True) -> str:
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        with self._cond:
            self.pushed[envelope_id] = time.monotonic()
        self.active().send_json(envelope)
        return envelope_id

    def push_slash_command(self, payload: dict, **kw: Any) -> str:
        return self.push("slash_commands", payload, **kw)

    def disconnect_message(self, reason: str = "refresh_requested") -> None:
        self.active().send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}})

    # ---- inspection ----
    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _on_text(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = {"unparsed": text}
        with self._cond:
            self.messages.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                self.acks.append(Ack(message["envelope_id"], message.get("payload"), message))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        return wait_on(
            self._cond,
            predicate,
            timeout,
            lambda: f"{what} not met within {timeout}s; connections={len(self.connections)} "
            f"messages={json.dumps(self.messages)[:1000]}",
        )

    def wait_connected(self, timeout: float = 20.0, *, alive: Callable[[], bool] | None = None) -> Connection:
        """An open connection whose client has pinged: it accepted our handshake (the SDK validates
        Sec-WebSocket-Accept before its first ping). `alive` lets the caller abort early (process died)."""

        def ready() -> Connection | None:
            if alive is not None and not alive():
                raise AssertionError("the client went away before connecting")
            return next((c for c in reversed(self.connections) if c.open and c.pings > 0), None)

        return self.wait_for(ready, timeout, "Socket Mode connection")

    def acks_for(self, envelope_id: str) -> list[Ack]:
        with self._cond:
            return [a for a in self.acks if a.envelope_id == envelope_id]

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        return self.wait_for(lambda: next(iter(self.acks_for(envelope_id)), None), timeout, f"ack of {envelope_id}")

    # ---- server ----
    def _accept_loop(self) -> None:
        while not self.stopped:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(0.2)
            conn = Connection(self, sock)
            with self._cond:
                self.connections.append(conn)
            threading.Thread(target=conn.run, name="fake-socket-mode-conn", daemon=True).start()
