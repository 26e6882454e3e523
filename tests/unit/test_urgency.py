"""Acks first: the priority write lock, background yields, and the paused SDK import."""

from __future__ import annotations

import sys
import threading
import time

from bot.ports import urgency
from bot.ports.urgency import PriorityLock, awaited, urgent, yield_to_awaited, yielding_imports


def _until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_an_urgent_waiter_gets_the_lock_before_a_background_one_that_queued_first():
    lock, order = PriorityLock(), []

    def take(name: str, is_urgent: bool) -> None:
        if is_urgent:
            with urgent(), lock:
                order.append(name)
        else:
            with lock:
                order.append(name)

    lock.__enter__()
    background = threading.Thread(target=take, args=("background", False))
    background.start()
    _until(lambda: lock.waiting == 1)
    ack = threading.Thread(target=take, args=("ack", True))
    ack.start()
    _until(lambda: lock.waiting == 2)
    lock.__exit__(None, None, None)
    background.join(10)
    ack.join(10)
    assert order == ["ack", "background"]


def test_background_work_waits_for_acks_in_flight_and_goes_on_when_they_are_written():
    order, inside = [], threading.Event()
    release = threading.Event()

    def ack_path() -> None:
        with awaited():
            inside.set()
            release.wait(10)
            order.append("ack written")

    def background() -> None:
        yield_to_awaited(limit=10)
        order.append("background ran")

    slack = threading.Thread(target=ack_path)
    slack.start()
    inside.wait(10)
    worker = threading.Thread(target=background)
    worker.start()
    worker.join(0.2)
    assert worker.is_alive() and order == []  # still yielding
    release.set()
    slack.join(10)
    worker.join(10)
    assert order == ["ack written", "background ran"]


def test_yielding_is_bounded_so_a_stream_of_acks_cannot_starve_background_work():
    with awaited():
        started = time.monotonic()
        yield_to_awaited(limit=0.05)
        assert time.monotonic() - started < 5  # returned on its own, not when the ack ended


def test_only_the_loading_threads_imports_pause_while_an_ack_is_in_flight(tmp_path, monkeypatch):
    (tmp_path / "slow_sdk_part.py").write_text("LOADED = True\n")
    (tmp_path / "ack_side_module.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(urgency, "YIELD_LIMIT_SECONDS", 30.0)  # so the pause can't end on its own mid-test
    order, in_ack, go_import, release = [], threading.Event(), threading.Event(), threading.Event()

    def ack_path() -> None:
        with awaited():
            in_ack.set()
            go_import.wait(10)
            import ack_side_module  # noqa: F401 - while the loader is paused: the import lock is free

            order.append("ack imported")
            release.wait(10)
            order.append("ack written")

    def loader() -> None:
        with yielding_imports():
            import slow_sdk_part  # noqa: F401

            order.append("sdk part imported")

    slack = threading.Thread(target=ack_path)
    slack.start()
    in_ack.wait(10)
    loading = threading.Thread(target=loader)
    loading.start()
    _until(lambda: urgency.yielding_now() == 1)  # the loader is paused inside its import
    go_import.set()
    _until(lambda: "ack imported" in order)
    assert loading.is_alive() and "sdk part imported" not in order
    release.set()
    slack.join(10)
    loading.join(10)
    assert order == ["ack imported", "ack written", "sdk part imported"]
    assert not any(type(f).__name__ == "_YieldingFinder" for f in sys.meta_path)
    assert type(sys.modules["slow_sdk_part"].__loader__).__name__ == "_YieldingLoader"
    sys.modules.pop("slow_sdk_part", None)
    sys.modules.pop("ack_side_module", None)


def test_work_handed_over_with_no_ack_in_flight_starts_at_once():
    started = []
    urgency.after_acks(lambda: started.append("now"))
    assert started == ["now"]


def test_work_handed_over_during_an_ack_starts_once_it_is_written():
    started, inside, release = [], threading.Event(), threading.Event()

    def ack_path() -> None:
        with awaited():
            urgency.after_acks(lambda: started.append(threading.current_thread().name))
            inside.set()
            release.wait(10)

    slack = threading.Thread(target=ack_path, name="ack")
    slack.start()
    inside.wait(10)
    time.sleep(0.05)
    assert started == []  # held back while the ack is in flight (well under the limit)
    release.set()
    slack.join(10)
    _until(lambda: started)
    assert started == ["after-acks"]  # started by the after-acks thread, not the ack's own


def test_a_stream_of_acks_holds_work_back_no_longer_than_the_limit(monkeypatch):
    monkeypatch.setattr(urgency, "YIELD_LIMIT_SECONDS", 0.1)
    started, stop = [], threading.Event()

    def endless_ack() -> None:
        with awaited():
            stop.wait(10)

    slack = threading.Thread(target=endless_ack)
    slack.start()
    _until(lambda: urgency._awaited > 0)
    handed = time.monotonic()
    urgency.after_acks(lambda: started.append(time.monotonic() - handed))
    _until(lambda: started, timeout=5)
    stop.set()
    slack.join(10)
    assert 0.09 <= started[0] < 2.0
