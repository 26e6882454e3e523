"""Queues by name: exact resolution for commands, ranked search for typeahead, live health.

Genesys' `name` filter treats `*` as a wildcard and is not documented as case-insensitive, so
typed names never reach it with a `*`, and matching happens here, on the client, the way
Genesys' own Terraform provider does it. The whole list (the catalog) is paged in the
background and cached, so a typo costs at most one request and "did you mean" comes from
the cache; typeahead never waits on Genesys.
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.domain.conversation import Queue, QueueHealth
from bot.domain.parsing import QUEUE_ID, loose_queue_key, normalize_queue_name, split_division
from bot.domain.problems import Code, Problem
from bot.ports.genesys import GenesysError, GenesysNotFound, GenesysPort, Priority
from bot.service.genesys_problems import During, from_genesys

log = logging.getLogger(__name__)
MAX_CATALOG_PAGES = 200  # 20,000 queues; beyond that the catalog says it is partial
HEALTH_FRESH_SECONDS = 8.0  # refreshed past this age by the 5 s sweep: at most 13 s + one slow answer
HEALTH_MAX_AGE_SECONDS = 15.0  # older health is not shown at all (the name alone), e.g. while Genesys fails
INTEREST_SECONDS = 60.0
EWT_FRESH_SECONDS = 60.0
EWT_TOP = 5


@dataclass(frozen=True)
class QueueOption:
    queue: Queue
    health: QueueHealth | None


class QueueDirectory:
    def __init__(
        self,
        genesys: GenesysPort,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._genesys = genesys
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._catalog: list[Queue] = []
        self._catalog_at: float | None = None
        self._catalog_partial = False
        self._loading = threading.Lock()
        self._by_key: dict[str, tuple[float, Queue]] = {}
        self._names: dict[str, str] = {}
        self._health: dict[str, tuple[float, QueueHealth]] = {}
        self._ewt: dict[str, tuple[float, float | None]] = {}
        self._interest: dict[str, float] = {}
        self._top: list[str] = []  # the latest search's best matches: their estimated waits come first
        self._in_flight: dict[str, threading.Event] = {}

    # ---- resolving a typed name -----------------------------------------------------------

    def resolve(self, text: str) -> Queue:
        """The one queue `text` names, or a Problem (not found with suggestions, ambiguous)."""
        if text.startswith(QUEUE_ID):
            return self._by_id(text[len(QUEUE_ID):])
        key = normalize_queue_name(text)
        cached = self._fresh(self._by_key.get(key))
        if cached is not None:
            return cached
        # Concurrent misses for one name share one lookup: at shift change a burst of transfers
        # to one queue must not spend the Genesys rate budget on identical queries.
        with self._lock:
            gate = self._in_flight.get(key)
            leader = gate is None
            if leader:
                gate = self._in_flight[key] = threading.Event()
        if not leader:
            gate.wait(30)
            cached = self._fresh(self._by_key.get(key))
            if cached is not None:
                return cached
        try:
            return self._resolve_now(text, key)
        finally:
            if leader:
                with self._lock:
                    self._in_flight.pop(key, None)
                gate.set()

    def _resolve_now(self, text: str, key: str) -> Queue:
        try:
            queue = self._lookup(text)
        except GenesysError as error:
            raise from_genesys(error, during=During.FINDING_QUEUE) from error
        with self._lock:
            self._by_key[key] = (self._clock(), queue)
            self._names[queue.id] = queue.name
        return queue

    def _by_id(self, queue_id: str) -> Queue:
        try:
            queue = self._genesys.get_queue(queue_id)
        except GenesysNotFound as error:
            raise Problem(Code.QUEUE_NOT_FOUND, {"name": queue_id, "suggestions": []}) from error
        except GenesysError as error:
            raise from_genesys(error, during=During.FINDING_QUEUE) from error
        with self._lock:
            self._names[queue.id] = queue.name
        return queue

    def _lookup(self, text: str) -> Queue:
        name, division = split_division(text)
        candidates: list[Queue] = []
        if "*" not in text:  # a typed * would list every queue; such names are matched from the catalog
            candidates = self._query(" ".join(text.split()))
            if division and not _exact(candidates, text):
                candidates += self._query(name)
        found = self._pick(candidates, text, name, division)
        if found is not None:
            return found
        # Not found as typed: one prefix query for near spellings ("Support Tier 2" ~ "Support_Tier2").
        prefix = _prefix(name)
        near = self._query(prefix + "*") if prefix else []
        self.catalog(wait=False)  # warms up for the next typo and the typeahead
        found = self._pick(near + self.catalog(wait=False), text, name, division, loose=True)
        if found is not None:
            return found
        raise Problem(Code.QUEUE_NOT_FOUND, {"name": text, "suggestions": self._suggest(text, near)})

    def _query(self, name: str) -> list[Queue]:
        return self._genesys.list_queues(name=name, page=1, page_size=100).queues

    def _pick(
        self, queues: list[Queue], text: str, name: str, division: str | None, *, loose: bool = False
    ) -> Queue | None:
        matches = _exact(queues, text)
        if not matches and division:
            matches = [q for q in _exact(queues, name) if _division_is(q, division)]
        if not matches and loose:
            key = loose_queue_key(text)
            matches = _unique(q for q in queues if loose_queue_key(q.name) == key)
            if not matches and division:
                key = loose_queue_key(name)
                matches = _unique(q for q in queues if loose_queue_key(q.name) == key and _division_is(q, division))
        if len(matches) > 1:
            raise Problem(
                Code.QUEUE_AMBIGUOUS,
                {"name": text, "candidates": [{"name": q.name, "division": q.division_name or q.division_id or "?",
                                              "id": q.id} for q in matches]},
            )
        return matches[0] if matches else None

    def _suggest(self, typed: str, extra: list[Queue], limit: int = 3) -> list[str]:
        names = {loose_queue_key(q.name): q.name for q in [*extra, *self.catalog(wait=False)]}
        close = difflib.get_close_matches(loose_queue_key(typed), list(names), n=limit, cutoff=0.5)
        return [names[c] for c in close]

    # ---- the catalog ------------------------------------------------------------------------

    def catalog(self, *, wait: bool = False) -> list[Queue]:
        """Every queue the bot can see, from the cache; refreshed in the background when stale."""
        with self._lock:
            stale = self._catalog_at is None or self._clock() - self._catalog_at > self._ttl
            current = self._catalog
        if stale:
            if wait:
                self.refresh_catalog()
                with self._lock:
                    return self._catalog
            threading.Thread(target=self.refresh_catalog, name="queue-catalog", daemon=True).start()
        return current

    def refresh_catalog(self) -> bool:
        """Page through every queue once (single-flight). False when another refresh is running."""
        if not self._loading.acquire(blocking=False):
            return False
        try:
            queues: list[Queue] = []
            page, partial = 1, False
            while True:
                result = self._genesys.list_queues(page=page, page_size=100)
                queues.extend(result.queues)
                if not result.queues or (result.page_count is not None and page >= result.page_count):
                    break
                if result.page_count is None and len(result.queues) < 100:
                    break
                if page >= MAX_CATALOG_PAGES:
                    partial = True
                    log.warning("queue catalog stops at %d queues (%d pages)", len(queues), page)
                    break
                page += 1
            with self._lock:
                self._catalog, self._catalog_at, self._catalog_partial = queues, self._clock(), partial
                self._names.update({q.id: q.name for q in queues})
            return True
        except GenesysError as error:
            log.warning("could not list queues: %s", error)
            return False
        finally:
            self._loading.release()

    def name_of(self, queue_id: str | None) -> str | None:
        """Best-effort display name for a queue id; None when Genesys can't tell us."""
        if not queue_id:
            return None
        with self._lock:
            if queue_id in self._names:
                return self._names[queue_id]
        try:
            name = self._genesys.get_queue(queue_id).name
        except GenesysError:
            return None
        with self._lock:
            self._names[queue_id] = name
        return name

    # ---- typeahead ----------------------------------------------------------------------------

    def search(self, query: str, limit: int = 100) -> list[QueueOption]:
        """Exact, then prefix, then substring matches, ignoring case, spaces and `_`. Cache only."""
        key = loose_queue_key(query)
        ranked: list[tuple[int, str, Queue]] = []
        for queue in self.catalog(wait=False):
            name_key = loose_queue_key(queue.name)
            if not key:
                rank = 3
            elif name_key == key:
                rank = 0
            elif name_key.startswith(key):
                rank = 1
            elif key in name_key:
                rank = 2
            else:
                continue
            ranked.append((rank, queue.name.casefold(), queue))
        ranked.sort(key=lambda item: (item[0], item[1]))
        chosen = [queue for _, _, queue in ranked[:limit]]
        self.note_interest(q.id for q in chosen)
        with self._lock:
            self._top = [q.id for q in chosen[:EWT_TOP]]
        return [QueueOption(q, self.cached_health(q.id)) for q in chosen]

    # ---- health -----------------------------------------------------------------------------

    def note_interest(self, queue_ids: Iterable[str]) -> None:
        now = self._clock()
        with self._lock:
            for queue_id in queue_ids:
                self._interest[queue_id] = now

    def cached_health(self, queue_id: str) -> QueueHealth | None:
        with self._lock:
            hit = self._health.get(queue_id)
            ewt = self._ewt.get(queue_id)
        if hit is None or self._clock() - hit[0] > HEALTH_MAX_AGE_SECONDS:
            return None
        health = hit[1]
        if ewt is not None and ewt[1] is not None:
            health = QueueHealth(health.available, health.waiting, ewt[1])
        return health

    def health_now(self, queue_id: str) -> QueueHealth | None:
        """Fresh health for one queue (approval messages); the cache when Genesys fails."""
        try:
            health = self._genesys.queue_health([queue_id]).get(queue_id)
            ewt = self._genesys.estimated_wait(queue_id)
        except GenesysError as error:
            log.info("queue health for %s unavailable: %s", queue_id, error)
            return self.cached_health(queue_id)
        if health is None:
            return None
        now = self._clock()
        with self._lock:
            self._health[queue_id] = (now, health)
            self._ewt[queue_id] = (now, ewt)
        return QueueHealth(health.available, health.waiting, ewt)

    def refresh_health(self) -> int:
        """One batched observation query for queues people looked at recently. Returns how many."""
        now = self._clock()
        with self._lock:
            wanted = [
                qid for qid, seen in self._interest.items()
                if now - seen <= INTEREST_SECONDS
                and (qid not in self._health or now - self._health[qid][0] > HEALTH_FRESH_SECONDS)
            ]
            for qid in [q for q, seen in self._interest.items() if now - seen > INTEREST_SECONDS]:
                del self._interest[qid]
        if not wanted:
            return 0
        try:
            found = self._genesys.queue_health(wanted[:500])
        except GenesysError as error:
            log.info("queue health refresh failed: %s", error)
            return 0
        with self._lock:
            for qid in wanted[:500]:
                if qid in found:
                    self._health[qid] = (now, found[qid])
            top = [qid for qid in self._top if qid in self._interest]
        # One request per queue: the best matches of what is typed now, not the first queues ever seen.
        self._refresh_estimated_waits(list(dict.fromkeys([*top, *wanted]))[:EWT_TOP], now)
        return len(found)

    def _refresh_estimated_waits(self, queue_ids: list[str], now: float) -> None:
        for qid in queue_ids:
            with self._lock:
                hit = self._ewt.get(qid)
            if hit is not None and now - hit[0] < EWT_FRESH_SECONDS:
                continue
            try:
                value = self._genesys.estimated_wait(qid, priority=Priority.BACKGROUND)
            except GenesysError:
                value = None
            with self._lock:
                self._ewt[qid] = (now, value)

    def _fresh(self, hit: tuple[float, Queue] | None) -> Queue | None:
        if hit is None or self._clock() - hit[0] > self._ttl:
            return None
        return hit[1]


def _exact(queues: Iterable[Queue], text: str) -> list[Queue]:
    key = normalize_queue_name(text)
    return _unique(q for q in queues if normalize_queue_name(q.name) == key)


def _unique(queues: Iterable[Queue]) -> list[Queue]:
    seen: dict[str, Queue] = {}
    for queue in queues:
        seen.setdefault(queue.id, queue)
    return list(seen.values())


def _division_is(queue: Queue, division: str) -> bool:
    wanted = division.casefold()
    return wanted in {(queue.division_name or "").casefold(), (queue.division_id or "").casefold()}


def _prefix(name: str) -> str:
    """The first three letters, for one near-spelling query ("Suport_Tier2" still finds "Support_Tier2");
    '' when too short to help."""
    first = name.strip()[:3]
    return first if len(first) == 3 and first.isalnum() else ""
