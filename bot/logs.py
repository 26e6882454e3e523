"""Logging: text for a terminal, one JSON object per line for machines; secrets never get out.

Redaction runs on the finished line (message, extra fields, exception text and traceback
alike), so a token that reaches a log call by any route is still replaced. Values with
newlines are escaped in text lines, so a forged "\\nERROR ..." in a request can't fake a line.
Request-scoped fields (request id, conversation id, Slack user, Genesys correlation id) come
from a context variable set around each piece of work.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_PATTERNS = re.compile(
    r"(xox[abposr]-[0-9A-Za-z-]+|xapp-[0-9A-Za-z-]+|Bearer\s+[^\s\"',}]+|Basic\s+[A-Za-z0-9+/=]+"
    r"|hooks\.slack\.com/[^\s\"',}]+)"
)
CHAT_USER_FIELD = "slack_user"  # the requester's chat user id; operators' dashboards rely on this name
CONTEXT_FIELDS = (
    "request_id", "conversation_id", CHAT_USER_FIELD, "genesys_correlation_id", "operation", "duration_ms",
)
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("log_context", default=None)
_secrets: list[str] = []


def add_secrets(values: Iterable[str]) -> None:
    """Exact secret values (tokens, signing secrets, client secret) to redact wherever they appear."""
    for value in values:
        if value and len(value) >= 6 and value not in _secrets:
            _secrets.append(value)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "[redacted]")
    return _PATTERNS.sub("[redacted]", text)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactingTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        safe = logging.makeLogRecord({**record.__dict__, "msg": message, "args": ()})
        line = super().format(safe)
        extras = [f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if hasattr(record, k)]
        if extras:
            head, sep, tail = line.partition("\n")
            line = head + " [" + " ".join(extras) + "]" + sep + tail
        return redact(line)


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _json_formatter() -> logging.Formatter:
    return RedactingJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(level: str = "INFO", fmt: str = "text", *, secrets: Iterable[str] = ()) -> None:
    add_secrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(RedactingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
    for noisy in ("urllib3", "slack_sdk.web.base_client", "slack_bolt.App"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    _route_uncaught()


def _route_uncaught() -> None:
    """Uncaught exceptions, in any thread, become log records (and so JSON lines, redacted)."""
    log = logging.getLogger("bot.uncaught")

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            return
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        log.critical("uncaught exception in thread %s", args.thread.name if args.thread else "?",
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = hook
    threading.excepthook = thread_hook


def print_json_or_text(lines: list[str], *, json_output: bool, level: str = "ERROR") -> None:
    """Start-up messages before logging is configured, in the format the operator asked for."""
    import json
    from datetime import UTC, datetime

    for line in lines:
        if json_output:
            print(json.dumps({"ts": datetime.now(UTC).isoformat(), "level": level, "logger": "bot.startup",
                              "message": redact(line)}), file=sys.stderr)
        else:
            print(redact(line), file=sys.stderr)
