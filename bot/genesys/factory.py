"""Building the SDK client from plain settings, without importing the SDK until it is called.

`sdk_factory(...)` returns a zero-argument callable for BackgroundGenesys: the slow import of
PureCloudPlatformClientV2 happens inside it, on the background thread.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.ports.genesys import GenesysPort
from bot.ports.store import RateBudget

# The default deadline is the connect timeout plus this much for sending and reading.
DEFAULT_READ_BUDGET = 12.0


def sdk_factory(
    *,
    api_base: str,
    login_base: str,
    client_id: str,
    client_secret: str,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    request_deadline: float | None = None,
    rate_limit_per_minute: float = 300,
    rate_burst: int = 10,
    pool_size: int = 32,
    rate_budget: RateBudget | None = None,
) -> Callable[[], GenesysPort]:
    """A builder of SdkGenesysClient; `request_deadline` defaults to connect + DEFAULT_READ_BUDGET."""
    deadline = request_deadline if request_deadline is not None else connect_timeout + DEFAULT_READ_BUDGET

    def build() -> GenesysPort:
        from bot.genesys.client import SdkGenesysClient  # the slow import, off the start-up path

        return SdkGenesysClient(
            api_base=api_base,
            login_base=login_base,
            client_id=client_id,
            client_secret=client_secret,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            request_deadline=deadline,
            rate_limit_per_minute=rate_limit_per_minute,
            rate_burst=rate_burst,
            pool_size=pool_size,
            rate_budget=rate_budget,
        )

    return build
