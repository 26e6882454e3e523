"""Naming network failures: each urllib3 failure maps to one cause, and whether it was sent."""

from __future__ import annotations

import socket
import ssl

import pytest
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from bot.genesys import failures
from bot.genesys.http import Attempt, TransportFailure
from bot.ports.genesys import GenesysTimeout, GenesysUnavailable

HOST = "api.mypurecloud.ie"


def _failure(error: BaseException | None, phase: str = "request") -> TransportFailure:
    return TransportFailure(HOST, phase, error)


@pytest.mark.parametrize(
    ("error", "sent", "cause", "kind"),
    [
        (
            NameResolutionError(HOST, None, socket.gaierror(-2, "Name or service not known")),
            False,
            "dns",
            GenesysUnavailable,
        ),
        (
            NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused"),
            False,
            "refused",
            GenesysUnavailable,
        ),
        (ConnectTimeoutError(None, "timed out"), False, "connect_timeout", GenesysTimeout),
        (SSLError(ssl.SSLError(1, "WRONG_VERSION_NUMBER")), False, "tls", GenesysUnavailable),
        (EmptyPoolError(None, "no connection"), False, "pool", GenesysTimeout),
        (ReadTimeoutError(None, "/x", "Read timed out."), True, "timeout", GenesysTimeout),
        (ReadTimeoutError(None, "/x", "Read timed out."), False, "connect_timeout", GenesysTimeout),  # TLS stall
        (ProtocolError("Connection aborted.", ConnectionResetError()), True, "dropped", GenesysUnavailable),
        (None, True, "timeout", GenesysTimeout),  # the deadline passed
    ],
)
def test_causes(error: BaseException | None, sent: bool, cause: str, kind: type) -> None:
    attempt = Attempt("replace_queue", 0.0, host=HOST, sent=sent)
    assert failures.transport_cause(_failure(error), sent) == cause
    mapped = failures.from_transport(
        _failure(error), attempt, failures.Context("replace_queue", "transferring", write=True)
    )
    assert type(mapped) is kind
    assert (mapped.cause, mapped.host, mapped.operation) == (cause, HOST, "replace_queue")
    assert mapped.maybe_executed is sent
    assert HOST in mapped.message


def test_messages_are_human() -> None:
    ctx = failures.Context("get_call", "reading conversation c")
    dns = failures.from_transport(
        _failure(NameResolutionError(HOST, None, socket.gaierror(-2, "x"))), Attempt("get_call", 0.0), ctx
    )
    assert dns.message == f"Could not resolve {HOST} (DNS failure) while reading conversation c."


def test_a_body_cut_short_was_sent() -> None:
    attempt = Attempt("replace_queue", 0.0, host=HOST)  # sent not marked, but the status line came back
    failure = _failure(urllib3.exceptions.ProtocolError("Connection broken"), phase="body")
    mapped = failures.from_transport(failure, attempt, failures.Context("replace_queue", "transferring", write=True))
    assert mapped.cause == "dropped" and mapped.maybe_executed is True
