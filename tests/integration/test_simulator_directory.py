"""Users in the simulator: search by email, GET /users/{id} with stations, routing status."""

from __future__ import annotations

import json
import uuid

import PureCloudPlatformClientV2 as gc
import pytest
from PureCloudPlatformClientV2.rest import ApiException

from bot.simulator import GenesysSimulator
from tests.integration.test_simulator_wire import ISO_MS_Z, raw, sdk, wire

SEARCH = "/api/v2/users/search"


@pytest.fixture
def sim():
    with GenesysSimulator(rate_limit_per_minute=None) as s:
        yield s


def email_search(value: str, **extra: object) -> gc.UserSearchRequest:
    criterion = gc.UserSearchCriteria()
    criterion.type = "EXACT"
    criterion.fields = ["email"]
    criterion.value = value
    req = gc.UserSearchRequest()
    req.query = [criterion]
    for k, v in extra.items():
        setattr(req, k, v)
    return req


def test_search_by_email_is_case_insensitive_and_deserializes(sim):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    sim.add_user("Bobby Other", "bobby@example.com")
    users = gc.UsersApi(sdk(sim))

    res = users.post_users_search(email_search("BOB@Example.COM", expand=["station", "routingStatus"]))

    assert isinstance(res, gc.UsersSearchResponse)
    assert (res.total, res.page_count, res.page_size, res.page_number) == (1, 1, 25, 1)
    (u,) = res.results
    assert (u.id, u.name, u.email, u.state, u.username) == (bob.id, "Bob Agent", "bob@example.com", "active",
                                                            "bob@example.com")  # fmt: skip
    assert u.station.effective_station.id == u.station.associated_station.id == bob.station_id
    assert u.station.associated_station.associated_user.id == bob.id
    assert (u.routing_status.user_id, u.routing_status.status) == (bob.id, "IDLE")
    # the raw answer only uses fields the SDK models know
    r = raw(sim, "POST", SEARCH, token=sim.issue_token(), body=users.api_client.sanitize_for_serialization(
        email_search("bob@example.com", expand=["station", "routingStatus"])))  # fmt: skip
    wire(r.json, "UsersSearchResponse")
    assert r.json["types"] == ["users"]


def test_search_without_match_has_no_results_array(sim):
    sim.add_user("Bob Agent", "bob@example.com")
    res = gc.UsersApi(sdk(sim)).post_users_search(email_search("nobody@example.com"))
    assert (res.total, res.page_count, res.results) == (0, 0, None)


def test_search_states_paging_and_other_criteria(sim):
    for i in range(5):
        sim.add_user(f"Agent {i}", f"agent{i}@example.com")
    sim.add_user("Ivan Former", "ivan@example.com", state="inactive")
    sim.add_user("Dan Deleted", "dan@example.com", state="deleted")
    token = sim.issue_token()

    def search(query, **extra):
        r = raw(sim, "POST", SEARCH, token=token, body={"query": query, **extra})
        assert r.status == 200, r.json
        return wire(r.json, "UsersSearchResponse")

    assert search([{"type": "EXACT", "fields": ["email"], "value": "ivan@example.com"}]).results[0].state == "inactive"
    assert search([{"type": "EXACT", "fields": ["email"], "value": "dan@example.com"}]).total == 0
    deleted = search([{"type": "EXACT", "fields": ["email"], "value": "dan@example.com"},
                      {"type": "EXACT", "fields": ["state"], "values": ["deleted"]}])  # fmt: skip
    assert [u.name for u in deleted.results] == ["Dan Deleted"]
    page = search([{"type": "STARTS_WITH", "fields": ["name"], "value": "agent"}], pageSize=2, pageNumber=3)
    assert (page.total, page.page_count, [u.name for u in page.results]) == (5, 3, ["Agent 4"])
    contains = search([{"type": "CONTAINS", "fields": ["email", "name"], "value": "former"}])
    assert [u.name for u in contains.results] == ["Ivan Former"]
    not_ivan = search([{"type": "MATCH_ALL"}, {"type": "EXACT", "fields": ["name"], "value": "Ivan Former",
                                              "operator": "NOT"}])  # fmt: skip
    assert not_ivan.total == 5


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid.value"),
        ({"query": []}, "invalid.value"),
        ({"query": [{"type": "FUZZY", "fields": ["email"], "value": "x"}]}, "invalid.value"),
        ({"query": [{"type": "EXACT", "fields": ["shoeSize"], "value": "x"}]}, "invalid.value"),
        ({"query": [{"type": "EXACT", "fields": ["email"]}]}, "invalid.value"),
        ({"query": [{"type": "EXACT", "fields": ["email"], "value": "x"}], "pageSize": 101}, "invalid.value"),
        ({"query": [{"type": "EXACT", "fields": ["email"], "value": "x"}], "pageNumber": 0}, "invalid.value"),
        ({"query": "email=x"}, "invalid.value"),
        (b"{", "bad.request"),
    ],
)
def test_search_validation(sim, body, code):
    r = raw(sim, "POST", SEARCH, token=sim.issue_token(), body=body, headers={"Content-Type": "application/json"})
    assert (r.status, r.json["code"], r.json["status"]) == (400, code, 400)
    assert r.json["contextId"] == r.headers["inin-correlation-id"]


def test_get_user_with_and_without_station(sim):
    with_station = sim.add_user("Bob Agent", "bob@example.com")
    without = sim.add_user("Erin Agent", "erin@example.com", station=False)
    users = gc.UsersApi(sdk(sim))

    u = users.get_user(with_station.id, expand=["station"])
    assert isinstance(u, gc.User) and (u.name, u.email, u.state) == ("Bob Agent", "bob@example.com", "active")
    assert u.station.associated_station.type == "inin_webrtc_softphone"
    assert u.division.name == "Home" and u.self_uri.endswith(with_station.id)
    plain = users.get_user(with_station.id)
    assert plain.station is None and plain.routing_status is None

    e = users.get_user(without.id, expand=["station"])
    assert e.station.associated_station is None and e.station.effective_station is None
    assert e.station.last_associated_station.id == without.station_id
    token = sim.issue_token()
    for uid in (with_station.id, without.id):
        r = raw(sim, "GET", f"/api/v2/users/{uid}?expand=station,routingStatus", token=token)
        wire(r.json, "User")
        assert r.json["routingStatus"]["status"] == "IDLE"


def test_unknown_deleted_and_inactive_users(sim):
    gone = sim.add_user("Dan Deleted", "dan@example.com", state="deleted")
    inactive = sim.add_user("Ivan Former", "ivan@example.com", state="inactive")
    users = gc.UsersApi(sdk(sim))
    for uid in (str(uuid.uuid4()), gone.id):
        with pytest.raises(ApiException) as ei:
            users.get_user(uid)
        assert ei.value.status == 404 and json.loads(ei.value.body)["code"] == "not.found"
        with pytest.raises(ApiException) as ei:
            users.get_user_routingstatus(uid)
        assert ei.value.status == 404
    assert users.get_user(gone.id, state="deleted").state == "deleted"
    assert users.get_user(inactive.id).state == "inactive"


def test_routing_status_follows_configuration_and_interactions(sim):
    q = sim.add_queue("Q")
    bob = sim.add_user("Bob Agent", "bob@example.com", queues=[q])
    frank = sim.add_user("Frank Agent", "frank@example.com", routing_status="NOT_RESPONDING")
    users = gc.UsersApi(sdk(sim))

    rs = users.get_user_routingstatus(bob.id)
    assert isinstance(rs, gc.RoutingStatus) and (rs.user_id, rs.status) == (bob.id, "IDLE")
    assert rs.start_time.tzinfo is not None
    r = raw(sim, "GET", f"/api/v2/users/{bob.id}/routingstatus", token=sim.issue_token())
    wire(r.json, "RoutingStatus")
    assert ISO_MS_Z.match(r.json["startTime"])
    assert users.get_user_routingstatus(frank.id).status == "NOT_RESPONDING"

    call = sim.add_conversation("call", "connected", agent=bob, queue=q)
    assert users.get_user_routingstatus(bob.id).status == "INTERACTING"
    sim.end_conversation(call.id)
    assert users.get_user_routingstatus(bob.id).status == "IDLE"
    sim.add_conversation("call", "alerting", agent=bob, queue=q)
    assert users.get_user_routingstatus(bob.id).status == "IDLE"  # ringing is not interacting
    sim.set_routing_status(bob, "OFF_QUEUE")
    assert users.get_user_routingstatus(bob.id).status == "OFF_QUEUE"


def test_add_user_validation(sim):
    sim.add_user("Bob Agent", "bob@example.com")
    with pytest.raises(ValueError):
        sim.add_user("Bob Again", "BOB@example.com")
    with pytest.raises(ValueError):
        sim.add_user("X", "not-an-email")
    with pytest.raises(ValueError):
        sim.add_user("X", "x@example.com", state="retired")
    with pytest.raises(ValueError):
        sim.add_user("X", "x@example.com", routing_status="BUSY")
    with pytest.raises(ValueError):
        sim.add_user("X", "x@example.com", queues=["No Such Queue"])
