"""A GenesysPort whose SDK client is built on a background thread.

Building the SDK client imports the parts of PureCloudPlatformClientV2 it uses (~0.4 s of CPU
with bot.genesys.sdk_import; the whole package would be 2–4 s and ~215 MB). Start-up waits for
it a bounded time before listening (bot.runner), and serves anyway when it takes longer (a slow
disk, a cold cache). Calls made before the client is ready wait a bounded time, then fail as
GenesysUnavailable(cause="starting").

The port's methods are forwarded by methods generated from `GenesysPort` itself when the class
is created, so a method added to the port is forwarded without anyone remembering to.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

from bot.ports.genesys import GenesysPort, GenesysUnavailable
from bot.ports.urgency import yielding_imports

log = logging.getLogger(__name__)


def port_methods() -> list[str]:
    """Names of the public methods GenesysPort declares."""
    return sorted(
        name for name, value in vars(GenesysPort).items() if inspect.isfunction(value) and not name.startswith("_")
    )


def _forwarder(name: str) -> Callable[..., Any]:
    declared = getattr(GenesysPort, name)

    @functools.wraps(declared)
    def forward(self: BackgroundGenesys, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.client_for(name), name)(*args, **kwargs)

    return forward


class _ForwardsPort(type):
    """Adds a forwarder for every GenesysPort method the class does not define itself."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        for method in port_methods():
            namespace.setdefault(method, _forwarder(method))
        return super().__new__(mcs, name, bases, namespace)


class BackgroundGenesys(metaclass=_ForwardsPort):
    """GenesysPort by delegation to a client built in the background (see module docstring)."""

    def __init__(self, factory: Callable[[], GenesysPort], *, wait_seconds: float = 30.0) -> None:
        self._factory = factory
        self._wait = wait_seconds
        self._ready = threading.Event()
        self._client: GenesysPort | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._load, name="genesys-sdk-load", daemon=True).start()

    def _load(self) -> None:
        try:
            with yielding_imports():  # Slack acks in flight go first (see bot.ports.urgency)
                self._client = self._factory()
        except BaseException as error:  # reported on every call and in /healthz
            log.error("Could not start the Genesys client: %s", type(error).__name__)
            self._error = error
        finally:
            self._ready.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once the client is built; False if it failed or is still loading after `timeout`."""
        return self._ready.wait(timeout) and self._client is not None

    @property
    def status(self) -> str:
        """ "loading", "ready" or "failed" (for /healthz)."""
        if not self._ready.is_set():
            return "loading"
        return "ready" if self._client is not None else "failed"

    def client_for(self, operation: str) -> GenesysPort:
        """The built client; waits up to `wait_seconds` for it, then raises GenesysUnavailable."""
        if not self._ready.wait(self._wait):
            raise GenesysUnavailable(
                "The Genesys client is still starting; try again in a few seconds.",
                operation=operation,
                cause="starting",
            )
        if self._client is None:
            raise GenesysUnavailable(
                f"The Genesys client failed to start ({type(self._error).__name__}: {self._error}).",
                operation=operation,
                cause="failed",
            )
        return self._client

    @property
    def client(self) -> GenesysPort:
        """The built client (waits like a port call does)."""
        return self.client_for("client")

    def stats(self) -> dict[str, Any]:
        """The client's request counters; empty until it is ready."""
        stats = getattr(self._client, "stats", None)
        return stats() if callable(stats) else {}

    def close(self) -> None:
        """Close the client if it was built."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()
