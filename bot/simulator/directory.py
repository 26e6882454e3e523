"""User directory search: ``POST /api/v2/users/search`` (UserSearchRequest -> UsersSearchResponse).

Simulated subset: criteria types EXACT/TERM, CONTAINS, STARTS_WITH and MATCH_ALL on the fields
id, name, email, username and state, each with ``value`` or ``values``; ``operator: "NOT"`` negates
a criterion. Every criterion must hold (AND). Matching is case-insensitive, so emails match
whatever their case. Deleted users are found only when a criterion names the ``state`` field.
Results are sorted by name; ``pageSize`` is 1..100.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.simulator.entities import SimUser, bad_request, invalid_value
from bot.simulator.render import users_search_json

if TYPE_CHECKING:
    from bot.simulator.world import World

SEARCH_TYPES = ("EXACT", "TERM", "CONTAINS", "STARTS_WITH", "MATCH_ALL")
SEARCH_FIELDS = {"id": "id", "name": "name", "email": "email", "username": "email", "state": "state"}
MAX_PAGE_SIZE = 100
EXPANDABLE = {"station", "routingStatus"}


def _criterion(raw: Any, i: int) -> tuple[str, list[str], list[str], bool]:
    """(type, fields, lower-cased values, negate) of query[i]."""
    if not isinstance(raw, dict):
        raise bad_request(f"query[{i}] must be an object")
    ctype = raw.get("type")
    if ctype not in SEARCH_TYPES:
        raise invalid_value(f"query[{i}].type {ctype!r} is not supported; use one of {list(SEARCH_TYPES)}")
    if ctype == "MATCH_ALL":
        return ctype, [], [], False
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields or any(f not in SEARCH_FIELDS for f in fields):
        raise invalid_value(f"query[{i}].fields must name some of {sorted(SEARCH_FIELDS)}")
    values = raw.get("values") if raw.get("values") is not None else [raw.get("value")]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise invalid_value(f"query[{i}] needs a non-empty value or values")
    return ctype, fields, [v.lower() for v in values], raw.get("operator") == "NOT"


def _matches(user: SimUser, ctype: str, fields: list[str], values: list[str]) -> bool:
    if ctype == "MATCH_ALL":
        return True
    for f in fields:
        have = str(getattr(user, SEARCH_FIELDS[f])).lower()
        for v in values:
            if (ctype in ("EXACT", "TERM") and have == v) or (ctype == "CONTAINS" and v in have) \
                    or (ctype == "STARTS_WITH" and have.startswith(v)):  # fmt: skip
                return True
    return False


def _page(body: dict[str, Any]) -> tuple[int, int]:
    size, number = body.get("pageSize", 25), body.get("pageNumber", 1)
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_value(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    if not isinstance(number, int) or number < 1:
        raise invalid_value("pageNumber must be at least 1")
    return size, number


def users_search(world: World, raw: Any) -> dict[str, Any]:
    """Run a UserSearchRequest against the simulated users."""
    if not isinstance(raw, dict):
        raise bad_request("The request body is missing or not a JSON object")
    query = raw.get("query")
    if not isinstance(query, list) or not query:
        raise invalid_value("query is required and must contain at least one criterion")
    criteria = [_criterion(c, i) for i, c in enumerate(query)]
    size, number = _page(raw)
    expand = raw.get("expand") or []
    if not isinstance(expand, list):
        raise invalid_value("expand must be an array")
    with_deleted = any("state" in fields for _, fields, _, _ in criteria)
    with world.lock:
        found = [
            u for u in world.users.values()
            if (with_deleted or u.state != "deleted")
            and all(_matches(u, t, f, v) != neg for t, f, v, neg in criteria)
        ]  # fmt: skip
        found.sort(key=lambda u: (u.name.lower(), u.id))
        page = found[(number - 1) * size : number * size]
        return users_search_json(world, page, len(found), size, number, set(expand) & EXPANDABLE)
