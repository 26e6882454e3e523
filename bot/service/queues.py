"""Resolve a typed queue name to exactly one Genesys queue, with a short-lived cache.

Genesys' `name` filter is not documented as case-insensitive, so matching is done here, on the
client, the way Genesys' own Terraform provider does it.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections.abc import Callable

from bot.domain.model import Queue
from bot.domain.parsing import normalize_queue_name
from bot.genesys.errors import GenesysError
from bot.genesys.port import GenesysPort
from bot.service.problems import from_genesys, queue_ambiguous, queue_not_found


class QueueDirectory:
    def __init__(
        self,
        genesys: GenesysPort,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 2048,
    ) -> None:
        self._genesys = genesys
        self._ttl = ttl_seconds
        self._clock = clock
        self._max = max_entries
        self._by_name: dict[str, tuple[float, Queue]] = {}
        self._names_by_id: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._in_flight: dict[str, threading.Event] = {}

    def resolve(self, typed_name: str) -> Queue:
        """Return the one queue called `typed_name`, or raise a Problem with suggestions.

        Concurrent misses for the same name share one lookup: at shift change a burst of
        transfers to one queue must not spend the Genesys rate limit on identical queries.
        """
        key = normalize_queue_name(typed_name)
        cached = self._cached(self._by_name, key)
        if cached is not None:
            return cached
        with self._lock:
            gate = self._in_flight.get(key)
            leader = gate is None
            if leader:
                gate = self._in_flight[key] = threading.Event()
        if not leader:
            gate.wait(60)
            cached = self._cached(self._by_name, key)
            if cached is not None:
                return cached
            # The leader failed (not found, ambiguous, Genesys error): look it up ourselves so
            # each user gets their own, current answer.
            return self._lookup(typed_name, key)
        try:
            return self._lookup(typed_name, key)
        finally:
            with self._lock:
                del self._in_flight[key]
            gate.set()

    def _lookup(self, typed_name: str, key: str) -> Queue:
        try:
            matches = self._exact(self._genesys.find_queues(" ".join(typed_name.split())), key)
            if not matches:
                # The server-side filter may be case- or whitespace-sensitive: look at all queues once.
                everything = self._genesys.find_queues(None)
                matches = self._exact(everything, key)
                if not matches:
                    raise queue_not_found(typed_name, _suggest(typed_name, everything))
        except GenesysError as error:
            raise from_genesys(error, during="looking up the queue") from error
        if len(matches) > 1:
            raise queue_ambiguous(typed_name, matches)
        queue = matches[0]
        self._store(self._by_name, key, queue)
        self._store(self._names_by_id, queue.id, queue.name)
        return queue

    def name_of(self, queue_id: str | None) -> str | None:
        """Best-effort display name for a queue id; None if Genesys can't tell us."""
        if not queue_id:
            return None
        cached = self._cached(self._names_by_id, queue_id)
        if cached is not None:
            return cached
        try:
            name = self._genesys.get_queue(queue_id).name
        except GenesysError:
            return None
        self._store(self._names_by_id, queue_id, name)
        return name

    @staticmethod
    def _exact(queues: list[Queue], key: str) -> list[Queue]:
        seen: dict[str, Queue] = {}
        for q in queues:
            if normalize_queue_name(q.name) == key:
                seen.setdefault(q.id, q)
        return list(seen.values())

    def _cached(self, table: dict, key: str):
        with self._lock:
            hit = table.get(key)
            if hit is None:
                return None
            stored_at, value = hit
            if self._clock() - stored_at > self._ttl:
                del table[key]
                return None
            return value

    def _store(self, table: dict, key: str, value: object) -> None:
        with self._lock:
            if len(table) >= self._max:
                table.clear()  # crude but bounded; entries are cheap to refetch
            table[key] = (self._clock(), value)


def _suggest(typed: str, queues: list[Queue], limit: int = 3) -> list[str]:
    names = {normalize_queue_name(q.name): q.name for q in queues}
    close = difflib.get_close_matches(normalize_queue_name(typed), list(names), n=limit, cutoff=0.5)
    return [names[c] for c in close]
