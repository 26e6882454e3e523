"""Who this app is in Slack, learned once from auth.test (and bots.info for the app id).

Readiness waits for it, and the request guard uses it to refuse payloads signed for another
workspace or another app that somehow share the signing secret.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    team_id: str
    bot_user_id: str
    bot_id: str | None
    app_id: str | None
    enterprise_id: str | None


class SlackIdentity:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._identity: Identity | None = None
        self.error: str | None = "auth.test not attempted yet"
        self._lock = threading.Lock()

    @property
    def known(self) -> Identity | None:
        return self._identity

    def learn(self) -> Identity | None:
        """Call auth.test (once it has succeeded, the answer is kept)."""
        with self._lock:
            if self._identity is not None:
                return self._identity
            try:
                auth = self._client.auth_test()
            except SlackApiError as error:
                self.error = f"auth.test refused: {error.response.get('error')}"
                log.warning("Slack %s", self.error)
                return None
            except OSError as error:
                self.error = f"auth.test unreachable: {type(error).__name__}"
                log.warning("Slack %s", self.error)
                return None
            app_id = auth.get("app_id")
            bot_id = auth.get("bot_id")
            if not app_id and bot_id:
                try:
                    app_id = (self._client.bots_info(bot=bot_id).get("bot") or {}).get("app_id")
                except (SlackApiError, OSError):
                    app_id = None
            self._identity = Identity(auth.get("team_id") or "", auth.get("user_id") or "", bot_id, app_id,
                                      auth.get("enterprise_id"))
            self.error = None
            log.info("Slack identity: team %s, bot user %s, app %s", self._identity.team_id,
                     self._identity.bot_user_id, app_id or "unknown")
            return self._identity

    def learn_in_background(self, retry_seconds: float = 5.0) -> threading.Thread:
        stop = threading.Event()

        def loop() -> None:
            while self.learn() is None and not stop.wait(retry_seconds):
                pass

        thread = threading.Thread(target=loop, name="slack-identity", daemon=True)
        thread.start()
        return thread
