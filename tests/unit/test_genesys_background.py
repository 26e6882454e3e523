"""BackgroundGenesys: forwards exactly the port, waits (bounded) while the SDK loads."""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from bot.genesys.background import BackgroundGenesys, port_methods
from bot.ports.genesys import GenesysPort, GenesysUnavailable


class Recorder:
    """Answers any method by recording its name and arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def method(*args: Any, **kwargs: Any) -> str:
            self.calls.append((name, args, kwargs))
            return f"result of {name}"

        return method


def test_every_port_method_is_forwarded_with_the_ports_signature() -> None:
    names = port_methods()
    assert {"get_conversation", "transfer", "queue_health", "check_access"} <= set(names)
    recorder = Recorder()
    port = BackgroundGenesys(lambda: recorder)  # type: ignore[arg-type, return-value]
    assert port.wait_ready(5)
    for name in names:
        assert inspect.signature(getattr(BackgroundGenesys, name)) == inspect.signature(getattr(GenesysPort, name))
        assert getattr(BackgroundGenesys, name).__doc__ == getattr(GenesysPort, name).__doc__
        assert getattr(port, name)("a", k=1) == f"result of {name}"
    assert [c[0] for c in recorder.calls] == names
    assert all(args == ("a",) and kwargs == {"k": 1} for _, args, kwargs in recorder.calls)
    assert port.status == "ready"


def test_a_call_before_ready_waits_bounded_then_says_starting() -> None:
    release = threading.Event()

    def slow_factory() -> Any:
        release.wait(10)
        return Recorder()

    port = BackgroundGenesys(slow_factory, wait_seconds=0.3)
    assert port.status == "loading" and port.stats() == {}
    started = time.monotonic()
    with pytest.raises(GenesysUnavailable) as err:
        port.get_queue("q")
    assert 0.25 <= time.monotonic() - started < 3.0
    assert err.value.cause == "starting" and err.value.operation == "get_queue"
    release.set()
    assert port.wait_ready(5)
    assert port.get_queue("q") == "result of get_queue"


def test_a_failed_start_is_reported_on_every_call() -> None:
    def broken() -> Any:
        raise ValueError("bad region")

    port = BackgroundGenesys(broken)
    assert not port.wait_ready(5)
    assert port.status == "failed"
    with pytest.raises(GenesysUnavailable) as err:
        port.check_access()
    assert err.value.cause == "failed" and "bad region" in err.value.message


def test_building_the_factory_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "from bot.genesys.background import BackgroundGenesys\n"
        "from bot.genesys.factory import sdk_factory\n"
        "sdk_factory(api_base='https://api.x', login_base='https://login.x', client_id='i', client_secret='s')\n"
        "loaded = [m for m in sys.modules if m.startswith('PureCloudPlatformClientV2.')"
        " and m not in ('PureCloudPlatformClientV2.models', 'PureCloudPlatformClientV2.apis')]\n"
        "assert not loaded, f'SDK modules were imported: {loaded[:5]}'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
