"""SdkGenesysClient against the Genesys simulator: mapping, paging, tokens, 429s and write safety."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from bot.genesys.errors import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysForbidden,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysTimeout,
    GenesysUnavailable,
)
from bot.genesys.port import GenesysPort, Priority
from bot.genesys.sdk_client import SdkGenesysClient
from bot.simulator import GenesysSimulator

REPLACE = r"/replace/queue$"
TOKEN = r"^/oauth/token$"


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


def test_implements_the_port(client: SdkGenesysClient) -> None:
    port: GenesysPort = client
    assert callable(port.replace_with_queue)


# -- reading calls ---------------------------------------------------------------------------


def test_get_call_maps_stale_duplicate_agents(sim: GenesysSimulator, client: SdkGenesysClient):
    q = sim.add_queue("Support_Tier2", division="Home")
    c = sim.add_call(scenario="connected", queue=q, agent_name="Alice", stale_agent_duplicates=2)

    call = client.get_call(c.id)

    assert call.id == c.id
    agents = [p for p in call.participants if p.purpose == "agent"]
    assert len(agents) == 3
    assert all(a.name == "Alice" and a.user_id == c.agent_user_id for a in agents)
    live = [a for a in agents if a.is_live]
    assert [a.id for a in live] == [c.agent_participant_id]
    assert live[0].connected_time is not None and live[0].connected_time.tzinfo is not None
    assert live[0].queue_id == q.id and live[0].held is False
    stale = [a for a in agents if not a.is_live]
    assert {a.id for a in stale} == set(c.stale_agent_participant_ids)
    assert all(a.state == "terminated" and a.connected_time is None for a in stale)
    assert all(a.end_time is not None for a in stale)
    customer = next(p for p in call.participants if p.purpose == "customer")
    assert customer.id == c.customer_participant_id and customer.is_live
    assert call.recent_transfers == ()


def test_not_found_vs_not_a_call(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    with pytest.raises(GenesysNotFound) as missing:
        client.get_call(str(uuid.uuid4()))
    assert missing.value.code == "not.found"
    assert missing.value.status == 404
    assert missing.value.correlation_id

    msg = sim.add_call(scenario="message")
    with pytest.raises(GenesysNotFound) as not_call:
        client.get_call(msg.id)
    assert not_call.value.code == "not.a.call"
    assert "message" in not_call.value.message
    assert "not a voice call" in not_call.value.message


def test_forbidden_maps_with_correlation_id(sim: GenesysSimulator, client: SdkGenesysClient):
    c = sim.add_call()
    sim.inject(method="GET", path=r"/conversations/calls/", status=403)
    with pytest.raises(GenesysForbidden) as err:
        client.get_call(c.id)
    recorded = sim.requests_matching("GET", r"/conversations/calls/")
    assert len(recorded) == 1
    assert err.value.status == 403
    assert err.value.code == "missing.any.permissions"
    assert err.value.correlation_id == recorded[0].correlation_id
    assert "not allowed" in err.value.message


def test_get_retries_once_after_503(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=r"/conversations/calls/", status=503, times=1)
    assert client.get_call(c.id).id == c.id
    assert len(sim.requests_matching("GET", r"/conversations/calls/")) == 2


def test_get_hang_times_out(sim: GenesysSimulator, make_client) -> None:
    client = make_client(read_timeout=1.0)
    c = sim.add_call()
    sim.inject(method="GET", path=r"/conversations/calls/", status=None, hang=True)
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.get_call(c.id)
    assert time.monotonic() - started < 4.0
    assert err.value.maybe_executed is False


# -- queues ----------------------------------------------------------------------------------


def test_find_queues_follows_every_page(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    for i in range(230):
        sim.add_queue(f"Q_{i:03d}", division="Sales" if i % 2 else "Home")
    sim.reset_requests()

    queues = client.find_queues(None)

    assert len(queues) == 230
    assert len({q.id for q in queues}) == 230
    pages = sim.requests_matching("GET", r"^/api/v2/routing/queues$")
    assert len(pages) == 3
    assert [r.query["pageNumber"] for r in pages] == [["1"], ["2"], ["3"]]
    assert all(r.query["pageSize"] == ["100"] for r in pages)
    sales = next(q for q in queues if q.name == "Q_001")
    assert sales.division_name == "Sales" and sales.division_id


def test_find_queues_by_name_and_get_queue(sim: GenesysSimulator, client: SdkGenesysClient):
    q = sim.add_queue("Support_Tier2", division="Home")
    sim.add_queue("Support_Tier3")
    found = client.find_queues("Support_Tier2")
    assert [x.id for x in found] == [q.id]
    assert found[0].division_name == "Home"
    assert client.find_queues("Nope") == []
    assert client.get_queue(q.id).name == "Support_Tier2"
    with pytest.raises(GenesysNotFound):
        client.get_queue(str(uuid.uuid4()))


# -- the transfer ----------------------------------------------------------------------------


def test_transfer_returns_correlation_id_and_posts_once(sim: GenesysSimulator, client):
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call(scenario="connected")

    correlation_id = client.replace_with_queue(c.id, c.agent_participant_id, q.id)

    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 1
    assert posts[0].json == {"queueId": q.id}
    assert posts[0].path.endswith(f"/{c.id}/participants/{c.agent_participant_id}/replace/queue")
    assert correlation_id == posts[0].correlation_id
    assert [t.queue_id for t in sim.transfers] == [q.id]

    confirmed = client.get_call(c.id, priority=Priority.BACKGROUND)
    assert [t.state for t in confirmed.recent_transfers] == ["Complete"]
    assert confirmed.recent_transfers[0].queue_id == q.id


def test_transfer_bad_request_is_mapped(sim: GenesysSimulator, client: SdkGenesysClient):
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call(scenario="ended")
    with pytest.raises(GenesysBadRequest) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert err.value.status == 400 and err.value.maybe_executed is False
    assert "not connected" in err.value.message


def test_503_on_post_is_not_resent(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=503, times=None)
    with pytest.raises(GenesysUnavailable) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert err.value.maybe_executed is True
    assert err.value.status == 503
    assert len(sim.requests_matching("POST", REPLACE)) == 1


def test_dropped_connection_after_execution_is_not_resent(sim: GenesysSimulator, client):
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=None, drop_connection=True, execute_before_fault=True)
    with pytest.raises(GenesysUnavailable) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert err.value.maybe_executed is True
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert len(sim.transfers) == 1


def test_hung_post_times_out_without_resend(sim: GenesysSimulator, make_client) -> None:
    client = make_client(read_timeout=1.0)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=None, hang=True, execute_before_fault=True)
    started = time.monotonic()
    with pytest.raises(GenesysTimeout) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert time.monotonic() - started < 4.0
    assert err.value.maybe_executed is True
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert len(sim.transfers) == 1


def test_connect_failure_means_not_executed(make_client) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    client = make_client(api_base=dead, login_base=dead, connect_timeout=1.0)
    with pytest.raises(GenesysUnavailable) as err:
        client.replace_with_queue(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    assert err.value.maybe_executed is False


# -- 429s ------------------------------------------------------------------------------------


def test_429_storm_on_post_is_retried_within_budget(sim: GenesysSimulator, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "1"}, times=2)
    started = time.monotonic()

    correlation_id = client.replace_with_queue(c.id, c.agent_participant_id, q.id)

    elapsed = time.monotonic() - started
    posts = sim.requests_matching("POST", REPLACE)
    assert [p.status for p in posts] == [429, 429, 202]
    assert correlation_id == posts[-1].correlation_id
    assert len(sim.transfers) == 1
    assert 1.8 <= elapsed < 10.0
    assert client.stats()["received_429"] == 2


def test_429_beyond_retry_count_raises_rate_limited(sim: GenesysSimulator, make_client) -> None:
    client = make_client(max_429_retries=3)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "0"}, times=None)
    with pytest.raises(GenesysRateLimited) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert err.value.status == 429 and err.value.maybe_executed is False
    posts = sim.requests_matching("POST", REPLACE)
    assert len(posts) == 4  # 1 + max_429_retries
    assert all(p.status == 429 for p in posts)
    assert sim.transfers == []


def test_429_beyond_wait_budget_fails_fast(sim: GenesysSimulator, make_client) -> None:
    client = make_client(max_429_wait=20.0)
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    sim.inject(method="POST", path=REPLACE, status=429, headers={"Retry-After": "30"}, times=None)
    started = time.monotonic()
    with pytest.raises(GenesysRateLimited) as err:
        client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    assert time.monotonic() - started < 3.0
    assert err.value.retry_after == 30
    assert len(sim.requests_matching("POST", REPLACE)) == 1
    assert sim.transfers == []


def test_client_side_pacing_avoids_429s(sim: GenesysSimulator, make_client) -> None:
    sim.set_rate_limit(600, 5)
    # 20% below the server's rate so network jitter cannot make us look faster than we are.
    client = make_client(rate_limit_per_minute=480, rate_burst=5)
    c = sim.add_call()
    for _ in range(12):
        client.get_call(c.id)
    assert sim.count_429 == 0
    assert client.stats()["received_429"] == 0


# -- tokens ----------------------------------------------------------------------------------


def test_token_fetched_once_for_many_calls(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(2):
                client.get_call(c.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(sim.requests_matching("POST", TOKEN)) == 1
    stats = client.stats()
    assert stats["by_kind"]["token"] == 1
    assert stats["by_kind"]["get_call"] == 8
    assert stats["requests"] == 9


def test_token_expiry_mid_run_relogs_exactly_once(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    client.get_call(c.id)
    sim.expire_tokens()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.get_call(c.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(sim.requests_matching("POST", TOKEN)) == 2
    assert client.stats()["by_kind"]["token"] == 2


def test_transfer_after_token_expiry_posts_exactly_once_successfully(sim, client) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    client.get_call(c.id)
    sim.expire_tokens()
    client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    statuses = [r.status for r in sim.requests_matching("POST", REPLACE)]
    assert statuses == [401, 202]  # the 401 executed nothing; one re-login, one transfer
    assert len(sim.transfers) == 1


def test_wrong_secret_is_a_human_auth_error(sim: GenesysSimulator, make_client) -> None:
    client = make_client(client_secret="wrong-secret")
    with pytest.raises(GenesysAuthError) as err:
        client.get_queue(str(uuid.uuid4()))
    assert "rejected the OAuth client id/secret" in err.value.message
    assert "wrong-secret" not in str(err.value)
    assert "wrong-secret" not in repr(client.token_provider)


def test_stats_shape(sim: GenesysSimulator, client: SdkGenesysClient) -> None:
    q = sim.add_queue("Support_Tier2")
    c = sim.add_call()
    client.get_call(c.id)
    client.find_queues("Support_Tier2")
    client.get_queue(q.id)
    client.replace_with_queue(c.id, c.agent_participant_id, q.id)
    stats = client.stats()
    assert stats["requests"] == 5
    assert stats["received_429"] == 0
    for kind in ("get_call", "find_queues", "get_queue", "transfer", "token"):
        assert stats["by_kind"][kind] == 1


def test_429_without_retry_after_on_get_waits_a_default(sim: GenesysSimulator, client) -> None:
    c = sim.add_call()
    sim.inject(method="GET", path=r"/conversations/calls/", status=429, times=1)
    started = time.monotonic()
    assert client.get_call(c.id).id == c.id
    assert time.monotonic() - started >= 0.9
    statuses = [r.status for r in sim.requests_matching("GET", r"/conversations/calls/")]
    assert statuses == [429, 200]
