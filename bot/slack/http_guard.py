"""Everything a Slack HTTP request must pass before Bolt parses it.

- Bodies over 1 MB get 413 without being read.
- The signature is checked on the raw bytes against the current signing secret and, during a
  rotation, the previous one; a bad or missing signature gets 401 before any parsing, and the
  log says only that a check failed (team and user ids when they can be read), never the body.
- A request already handled (the same signature and timestamp, within Slack's 5-minute window)
  is acknowledged and dropped, whichever replica sees it again: the key is kept in the shared store.
- A payload for another workspace or app is refused.
- The time to the ack is measured here, from arrival to the response being written.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from bot.ops.metrics import SLACK_ACK_SECONDS
from bot.ports.replay_key import deferred_replay_check
from bot.ports.store import ReplayGuard, StoreUnavailable
from bot.ports.urgency import awaited, urgent
from bot.slack.identity import SlackIdentity

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
REPLAY_WINDOW = timedelta(minutes=6)  # Slack's 5 minutes plus clock skew


def _reply(start_response: Callable, status: str, body: bytes = b"", content_type: str = "text/plain") -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class SlackRequestGuard:
    def __init__(
        self,
        app: Callable,
        *,
        signing_secrets: Iterable[str],
        replay: ReplayGuard | None,
        identity: SlackIdentity | None,
        now: Callable[[], datetime],
        max_body: int = MAX_BODY,
    ) -> None:
        self.app = app
        self.verifiers = [SignatureVerifier(s) for s in signing_secrets if s]
        self.replay = replay
        self.identity = identity
        self.now = now
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        with awaited():  # background work yields until this ack is written
            return self._guard(environ, start_response)

    def _guard(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        body = self._read(environ)
        if body is None:
            return _reply(start_response, "413 Payload Too Large", b"request body too large")
        ts = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not self._signed(body, ts, signature):
            team, user = _who(body)
            log.warning("Slack signature check failed (team %s, user %s)", team or "?", user or "?")
            return _reply(start_response, "401 Unauthorized", b"invalid signature")
        refusal = self._foreign(body)
        if refusal:
            log.warning("refused a signed Slack request for another %s", refusal)
            return _reply(start_response, "403 Forbidden", b"not for this app")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        def timed_start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            SLACK_ACK_SECONDS.observe(time.perf_counter() - started)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        if not _replay_matters(body) or self.replay is None:
            return self.app(environ, timed_start_response)
        key = hashlib.sha256(f"{ts}:{signature}".encode()).hexdigest()
        if _is_slash_command(body):
            return self._checked_at_first_effect(environ, key, ts, timed_start_response, start_response)
        if not self._first_time(key, self.now() + REPLAY_WINDOW):
            return self._dropped(ts, start_response)
        return self.app(environ, timed_start_response)

    def _checked_at_first_effect(self, environ: dict[str, Any], key: str, ts: str,
                                 timed_start_response: Callable, start_response: Callable) -> Iterable[bytes]:
        """A slash command's replay key is written with its request, in one transaction (see
        bot.ports.replay_key); Bolt's answer is held until the key is known to be new."""
        answer: list[Any] = []

        def hold(status: str, headers: list, exc_info: Any = None) -> Callable:
            answer[:] = [status, headers]
            return lambda data: None

        with deferred_replay_check(key, self.now() + REPLAY_WINDOW, self._first_time) as pending:
            chunks = self.app(environ, hold)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            first = pending.settle()
        if not first:
            return self._dropped(ts, start_response)
        if not answer:  # Bolt always answers; a WSGI app that didn't is a bug to see, not to hide
            return _reply(timed_start_response, "500 Internal Server Error")
        timed_start_response(*answer)
        return [body]

    def _dropped(self, ts: str, start_response: Callable) -> list[bytes]:
        log.warning("ignored a replayed Slack request (timestamp %s)", ts[:12])
        return _reply(start_response, "200 OK")

    def _read(self, environ: dict[str, Any]) -> bytes | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body:
            return None
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        data = stream.read(length) if length else stream.read(self.max_body + 1)
        return None if len(data) > self.max_body else data

    def _signed(self, body: bytes, ts: str, signature: str) -> bool:
        if not ts or not signature:
            return False
        try:
            return any(v.is_valid(body=body, timestamp=ts, signature=signature) for v in self.verifiers)
        except (ValueError, TypeError):  # a body not in UTF-8, a timestamp not a number, a non-ASCII signature
            return False

    def _first_time(self, key: str, expires_at: datetime) -> bool:
        """Record the key; False if it was there (a replay). True when the store can't answer."""
        try:
            with urgent():  # Slack is waiting for the ack: this write goes before background ones
                return self.replay.first_time(key, expires_at)
        except StoreUnavailable as error:
            # Fail open: a replayed command still meets compare-and-set and the one-open-request rule.
            log.warning("replay check unavailable: %s", error)
            return True

    def _foreign(self, body: bytes) -> str | None:
        known = self.identity.known if self.identity else None
        if known is None:
            return None
        team, app = _team_and_app(body)
        if app and known.app_id and app != known.app_id:
            return "app"
        if team and known.team_id and team != known.team_id and not known.enterprise_id:
            return "workspace"
        return None


def _is_slash_command(body: bytes) -> bool:
    """A slash command's form has a `command` field (interactions have `payload`, events are JSON)."""
    return body.startswith(b"command=") or b"&command=" in body


def _replay_matters(body: bytes) -> bool:
    """Typeahead requests change nothing and two identical ones in a second are legitimate; the rest act."""
    if b"block_suggestion" not in body[:4096]:
        return True
    return _form(body).get("type") != "block_suggestion"


def _form(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace")
    if text.startswith("{"):
        try:
            data = json.loads(text)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
    form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
            return payload if isinstance(payload, dict) else {}
        except ValueError:
            return {}
    return form


_FORM_IDS = re.compile(rb"(?:^|&)(team_id|api_app_id)=([^&]*)")


def _team_and_app(body: bytes) -> tuple[str | None, str | None]:
    if not body.startswith((b"{", b"payload=")):
        # A slash command's form: two fields read straight from the bytes, not a full parse that
        # Bolt repeats a moment later (this is on the ack path). Ids are plain alphanumerics;
        # anything else, or a field given twice, takes the full parse below.
        found = _FORM_IDS.findall(body)
        names = [name for name, _ in found]
        if len(set(names)) == len(names) and all(value.isalnum() or not value for _, value in found):
            ids = {name: value.decode() for name, value in found}
            return ids.get(b"team_id") or None, ids.get(b"api_app_id") or None
    data = _form(body)
    team_field = data.get("team")
    team = team_field.get("id") if isinstance(team_field, dict) else data.get("team_id")
    return (team if isinstance(team, str) else None), (data.get("api_app_id") or None)


def _who(body: bytes) -> tuple[str | None, str | None]:
    """Team and user ids for the log line of a failed check: ids only, checked for shape."""
    try:
        data = _form(body[:65536])
    except Exception:
        return None, None
    team, _ = _team_and_app(body[:65536])
    user = data.get("user_id") or ((data.get("user") or {}).get("id") if isinstance(data.get("user"), dict) else None)
    return _id_or_none(team), _id_or_none(user)


def _id_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.isalnum() and len(value) <= 20 else None
