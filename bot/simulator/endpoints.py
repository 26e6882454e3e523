"""What each simulated API endpoint does with a request: validate it, ask the world, render the answer.

Handlers get the world, the parsed request and the path parameters, return an ``ApiResponse`` and
raise ``SimError`` for a Genesys error body. Authentication, rate limiting, faults and the routing
table are the server's business (``server.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot.simulator import analytics, directory, render
from bot.simulator.entities import TRANSFER_TYPES, SimError, bad_request, invalid_value
from bot.simulator.world import World

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 25
EWT_MEDIA = {"call": ("call", "CALL"), "voice": ("call", "CALL"), "callback": ("callback", "CALLBACK"),
             "chat": ("message", "CHAT"), "message": ("message", "MESSAGE"), "email": ("email", "EMAIL")}  # fmt: skip


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes = b""
    content_type: str | None = None
    client_id: str | None = None  # set once the bearer token is accepted

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[-1]

    def params(self, name: str) -> list[str]:
        """A multi-valued parameter, given repeated or comma-separated."""
        return [v for raw in self.query.get(name, []) for v in raw.split(",") if v]

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object: 415 for another content type, 400 when missing or malformed."""
        if self.content_type and "json" not in self.content_type.lower():
            raise SimError(415, "unsupported.media.type", f"Content-Type {self.content_type} is not supported; "
                           "use application/json")  # fmt: skip
        if not self.body.strip():
            raise bad_request("The request body is missing")
        try:
            parsed = json.loads(self.body)
        except ValueError:
            raise bad_request("The request body could not be parsed as JSON") from None
        if not isinstance(parsed, dict):
            raise bad_request("The request body must be a JSON object")
        return parsed


@dataclass
class ApiResponse:
    status: int
    body: Any = None  # dict/list -> JSON; None -> empty body
    headers: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- conversations
def get_call(world: World, req: ApiRequest, cid: str) -> ApiResponse:
    return ApiResponse(200, render.call_json(world, cid))


def get_conversation(world: World, req: ApiRequest, cid: str) -> ApiResponse:
    return ApiResponse(200, render.conversation_json(world, cid))


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_value(f"{key} must be a string")
    return value


def _opt_bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise invalid_value(f"{key} must be true or false")
    return value


def _transfer_type(body: dict[str, Any]) -> str:
    """transferType (default Unattended) after checking the fields every transfer body shares."""
    transfer_type = body.get("transferType", "Unattended")
    if transfer_type not in TRANSFER_TYPES:
        raise invalid_value(f"Value [{transfer_type}] is not valid for transferType")
    _opt_bool(body, "keepInternalMessageAlive")
    return transfer_type


def replace_queue(world: World, req: ApiRequest, cid: str, pid: str) -> ApiResponse:
    """TransferToQueueRequest -> 202."""
    body = req.json_object()
    transfer_type = _transfer_type(body)
    world.transfer_to_queue(cid, pid, queue_id=_opt_str(body, "queueId"), queue_name=_opt_str(body, "queueName"),
                            transfer_type=transfer_type, issued_by=req.client_id)  # fmt: skip
    return ApiResponse(202)


def replace_agent(world: World, req: ApiRequest, cid: str, pid: str) -> ApiResponse:
    """TransferToAgentRequest -> 202."""
    body = req.json_object()
    transfer_type = _transfer_type(body)
    world.transfer_to_agent(
        cid, pid,
        user_id=_opt_str(body, "userId"),
        user_name=_opt_str(body, "userName"),
        user_display_name=_opt_str(body, "userDisplayName"),
        voicemail=_opt_bool(body, "voicemail"),
        transfer_type=transfer_type,
        issued_by=req.client_id,
    )  # fmt: skip
    return ApiResponse(202)


def transfer_to_address(world: World, req: ApiRequest, cid: str, pid: str) -> ApiResponse:
    """TransferToAddressRequest -> 202 (voice only)."""
    body = req.json_object()
    transfer_type = _transfer_type(body)
    address = _opt_str(body, "address")
    if address is None or not address.strip():
        raise invalid_value("address is required")
    world.transfer_to_address(cid, pid, address=address, transfer_type=transfer_type, issued_by=req.client_id)
    return ApiResponse(202)


# ---------------------------------------------------------------------- routing
def _int_param(req: ApiRequest, name: str, default: int) -> int:
    raw = req.param(name, str(default)) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Invalid value [{raw}] for {name}") from None


def list_queues(world: World, req: ApiRequest) -> ApiResponse:
    """GET /routing/queues: ``name`` (see ``world.name_matches``), ``id``, ``divisionId``, paging, sortOrder."""
    page_size = _int_param(req, "pageSize", DEFAULT_PAGE_SIZE)
    page_number = _int_param(req, "pageNumber", 1)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise invalid_value(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    if page_number < 1:
        raise invalid_value("pageNumber must be at least 1")
    queues = world.list_queues(
        name=req.param("name"),
        division_ids=req.params("divisionId"),
        ids=req.params("id"),
        sort_desc=(req.param("sortOrder", "asc") or "asc").lower() == "desc",
    )
    start = (page_number - 1) * page_size
    entities = [render.queue_json(q, *world.queue_counts(q)) for q in queues[start : start + page_size]]
    keep = [(k, v) for k, vs in req.query.items() if k not in ("pageSize", "pageNumber") for v in vs]

    def uri(n: int) -> str:
        params = [("pageSize", str(page_size)), ("pageNumber", str(n)), *keep]
        return "/api/v2/routing/queues?" + urlencode(params)

    return ApiResponse(200, render.queue_listing(entities, len(queues), page_size, page_number, uri))


def get_queue(world: World, req: ApiRequest, qid: str) -> ApiResponse:
    q = world.get_queue(qid)
    return ApiResponse(200, render.queue_json(q, *world.queue_counts(q)))


def queue_wait(world: World, req: ApiRequest, qid: str) -> ApiResponse:
    world.get_queue(qid)
    return ApiResponse(200, render.estimated_wait_json(world.estimated_wait(qid)))


def queue_media_wait(world: World, req: ApiRequest, qid: str, media_type: str) -> ApiResponse:
    world.get_queue(qid)
    if media_type.lower() not in EWT_MEDIA:
        raise invalid_value(f"mediaType [{media_type}] is not one of {sorted(EWT_MEDIA)}")
    media, intent = EWT_MEDIA[media_type.lower()]
    return ApiResponse(200, render.estimated_wait_json(world.estimated_wait(qid, media), intent))


# ---------------------------------------------------------------------- users
def users_search(world: World, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, directory.users_search(world, req.json_object()))


def get_user(world: World, req: ApiRequest, uid: str) -> ApiResponse:
    """GET /users/{id}: deleted users only with ``state=deleted``; ``expand=station,routingStatus``."""
    user = world.get_user(uid, include_deleted=req.param("state") == "deleted")
    expand = set(req.params("expand")) & directory.EXPANDABLE
    with world.lock:
        return ApiResponse(200, render.user_json(world, user, expand))


def get_routing_status(world: World, req: ApiRequest, uid: str) -> ApiResponse:
    with world.lock:
        return ApiResponse(200, render.routing_status_json(world, world.get_user(uid)))


# ---------------------------------------------------------------------- analytics
def activity_query(world: World, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, analytics.activity_query(world, req.json_object()))


def queue_observations(world: World, req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, analytics.queue_observation_query(world, req.json_object()))
