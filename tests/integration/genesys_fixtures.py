"""Fixtures for the Genesys adapter tests (pytest_plugins): a simulator and an SdkGenesysClient factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.genesys.client import SdkGenesysClient
from bot.simulator import GenesysSimulator


@pytest.fixture
def sim() -> Iterator[GenesysSimulator]:
    s = GenesysSimulator(rate_limit_per_minute=300, burst=10).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def make_client(sim: GenesysSimulator) -> Iterator[Callable[..., SdkGenesysClient]]:
    clients: list[SdkGenesysClient] = []

    def make(**overrides: object) -> SdkGenesysClient:
        settings: dict[str, object] = {
            "api_base": sim.url,
            "login_base": sim.url,
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
        }
        settings.update(overrides)
        client = SdkGenesysClient(**settings)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., SdkGenesysClient]) -> SdkGenesysClient:
    return make_client()
